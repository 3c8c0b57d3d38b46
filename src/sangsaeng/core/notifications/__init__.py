"""Notifications: an in-app inbox per user and an e-mail outbox (sent when SMTP is configured)."""
