"""WSGI entry point: ``gunicorn wsgi:app`` and ``granian --interface wsgi wsgi:app``
(configuration comes from the environment).

In production a server that cannot reach a shared part (database, Redis, key store, file
store) refuses to start, naming each, instead of answering wrongly. Once built, what the app
holds for the worker's life is frozen out of the garbage collector's full sweeps
(registry/ops/memory.py: those sweeps were the verification page's p99 tail). The same module
serves the verification pool under granian (deploy/systemd/registry-verify.service), which
copies the process environment into every request: variables named like request fields are
removed from it once the app is built."""

from registry import create_app
from registry.ops.memory import settle
from registry.ops.readiness import require_ready
from registry.web.proxy import scrub_request_fields

app = create_app()
scrub_request_fields()  # granian copies the process environment into every request
if app.config["PRODUCTION"]:
    require_ready(app)
app.wsgi_app = settle(app.wsgi_app, app.config["GC_FREEZE_AFTER_REQUESTS"])  # type: ignore[method-assign,assignment]
