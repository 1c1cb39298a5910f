"""WSGI entry point: ``gunicorn wsgi:app`` (configuration comes from the environment).

In production a server that cannot reach a shared part (database, Redis, key store, file
store) refuses to start, naming each, instead of answering wrongly."""

from registry import create_app
from registry.ops.readiness import require_ready

app = create_app()
if app.config["PRODUCTION"]:
    require_ready(app)
