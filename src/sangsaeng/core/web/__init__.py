"""The web shell: request wiring, CSRF, security headers, templates, error pages, dashboard."""
