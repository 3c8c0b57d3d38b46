"""Programs: calls, applications, selection, agreements, projects and their funds."""
