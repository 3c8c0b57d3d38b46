"""Sangsaeng (상생): a platform for large-company–SME shared-growth programs."""

__version__ = "0.1.0"
