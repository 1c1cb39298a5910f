"""Notifications (issue 16 §5): who is told what by mail, and each user's settings."""
