"""Organisations, users and sign-in."""
