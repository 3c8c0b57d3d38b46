"""Synthetic, realistic demo data with planted ground truth."""
