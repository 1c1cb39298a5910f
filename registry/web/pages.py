"""Home, language switch, liveness (/healthz) and readiness (/readyz)."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.local import LocalProxy

from registry.ops import readiness
from registry.web.database import engine
from registry.web.extensions import limiter

bp = Blueprint("main", __name__)

HOME_BY_ROLE = {
    "exporter": "catalog.dashboard",
    "officer": "review.queue",
    "admin": "accounts.users",
    "printer": "printing.jobs",
}


@bp.route("/")
def home() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "main.about")))
    return render_template("home.html")


@bp.route("/about")
def about() -> Any:
    return render_template("home.html")




@bp.route("/sources")
def sources() -> Any:
    return render_template("sources.html")


@bp.route("/healthz")
def healthz() -> Any:
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means the database is not usable
        return {"status": "error", "database": "unreachable", "scan_buffer": _scan_buffer()}, 503
    return {"status": "ok", "database": "ok", "scan_buffer": _scan_buffer()}


@bp.route("/readyz")
@limiter.exempt
def readyz() -> Any:
    """Readiness for a load balancer: every shared part this server needs (database, Redis,
    key store, file store, …), each with a short timeout; 503 names the parts down."""
    # current_app is typed as the app; it is the proxy in front of it.
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    return readiness.report(readiness.run_checks(app))


def _scan_buffer() -> dict[str, Any]:
    """This worker's scan buffer for operators: rows waiting, written, refused (dropped one
    by one), discarded, failed flushes, the last error, and scans not recorded because a
    reader used up its budget (``skipped``)."""
    resolver = current_app.extensions["label_resolver"]
    return {**resolver.buffer().stats(), "skipped": resolver.budget.skipped}
