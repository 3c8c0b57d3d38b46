"""Users, login sessions, API tokens, password resets and memberships."""
