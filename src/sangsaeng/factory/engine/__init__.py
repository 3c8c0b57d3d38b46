"""Pure functions of the factory analyses: no database, no web, no settings."""
