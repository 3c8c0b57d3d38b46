"""Organizations, their supply-chain links and reference-data derived fields."""
