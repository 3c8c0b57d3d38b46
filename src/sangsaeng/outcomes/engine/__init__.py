"""Pure computations of outcomes: no database, web or settings."""
