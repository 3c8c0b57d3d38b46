"""Background jobs: a row per job (status, progress, result or error), run by the Huey worker."""
