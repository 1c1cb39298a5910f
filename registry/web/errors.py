"""The pages and problem documents errors become: domain errors (``registry.exceptions``),
HTTP errors, an expired form, a database conflict and the unexpected."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, got_request_exception, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from registry.exceptions import RegistryError

TITLES = {
    400: "Bad request",
    403: "Access denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "File or request too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you sent."),
        403: _("You do not have access to this page."),
        404: _("We could not find this page."),
        405: _("This action is not available here."),
        409: _("This is not possible in the current state of the record. It may have been "
               "submitted, decided or changed by someone else; please reload the page."),
        413: _("The file or request is too large."),
        422: _("Some of the input is not valid."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. The error has been logged."),
    }


def problem(status: int, detail: str, **extra: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail, **extra}
    return body, status, {"Content-Type": "application/problem+json"}


def render_error(status: int, detail: str | None = None, **extra: Any) -> Any:
    message = detail or _messages().get(status, "")
    if _wants_json():
        return problem(status, message, **extra)
    return render_template("error.html", status=status, message=message), status


CONFLICT_MARKERS = (
    "unique constraint", "UNIQUE constraint", "duplicate key",  # SQLite, PostgreSQL
    "FOREIGN KEY constraint", "foreign key constraint",
)


def _is_conflict(exc: IntegrityError) -> bool:
    message = str(exc.orig)
    return any(marker in message for marker in CONFLICT_MARKERS)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = exc.code or 500
        if isinstance(exc, CSRFError):
            return render_error(400, _("The form expired or was not sent from this site. "
                                      "Please go back, reload the page and try again."))
        return render_error(code)

    @app.errorhandler(RegistryError)
    def _domain(exc: RegistryError) -> Any:
        extra = {**exc.extra, **({"errors": exc.fields} if exc.fields else {})}
        if _wants_json() or exc.public:
            return render_error(exc.status, exc.message, **extra)
        return render_error(exc.status, **extra)

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Any:
        # A safety net: services turn the unique values they know into field errors
        # (``db.flush_unique``); a duplicate or a vanished parent row they did not foresee
        # is still a conflict with another request, not a crash. A NOT NULL or CHECK
        # violation is a bug in the code: that stays a logged 500.
        if not _is_conflict(exc):
            return _unexpected(exc)
        app.logger.warning("integrity error on %s %s: %s", request.method, request.path,
                           exc.orig)
        session = g.get("db_session")
        if session is not None:
            session.rollback()
        return render_error(409, _("This is already registered, possibly by someone at the "
                                   "same moment. Please reload the page and check."))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        # Handled here, so Flask does not send its signal itself: error trackers (Sentry's
        # Flask integration, registry.ops.errortracking) listen to it.
        got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=exc)
        # After a failed flush the request's session refuses every query until rolled back,
        # and the error page reads the signed-in user: without this the 500 page itself crashed.
        session = g.get("db_session")
        if session is not None:
            session.rollback()
        return render_error(500)
