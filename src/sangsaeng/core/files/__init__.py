"""Uploaded files: checked by content, stored under random keys, read only with permission."""
