"""WSGI entry point: ``gunicorn wsgi:app`` (configuration comes from the environment)."""

from registry import create_app

app = create_app()
