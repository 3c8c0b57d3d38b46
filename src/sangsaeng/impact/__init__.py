"""Impact: program participants against comparable non-participants (matching, staggered DiD)."""
