"""Pure functions of the impact analysis: no database, no web, no settings."""
