"""Pure assessment engines: instrument parsing, scoring, roadmaps, rankings (no app imports)."""
