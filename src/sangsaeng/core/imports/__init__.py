"""Spreadsheet imports: reading CSV/xlsx safely, mapping columns, validating rows, upserting."""
