"""The platform core: accounts, organizations, permissions, reference data, web shell."""
