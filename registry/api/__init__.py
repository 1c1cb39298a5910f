"""JSON API v1 for exporters' and offices' own systems."""
