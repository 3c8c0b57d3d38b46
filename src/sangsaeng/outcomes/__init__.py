"""Outcomes: KPIs before and after, verification, and the program performance report."""
