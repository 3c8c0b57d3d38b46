"""Pure program engines (no database, web or settings imports)."""
