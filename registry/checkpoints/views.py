"""The published checkpoint and audit key, plain text at well-known addresses, open to any
origin: offices fetch them on a schedule and keep the files outside the registry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app

from registry.checkpoints import services
from registry.checkpoints.keys import AuditKeyStore
from registry.web.database import get_session

bp = Blueprint("checkpoints", __name__)


def _text(body: str) -> Response:
    response = Response(body, mimetype="text/plain")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.route("/.well-known/audit-checkpoint")
def latest_checkpoint() -> Any:
    """The latest signed checkpoint of the audit log (a C2SP tlog-checkpoint note)."""
    checkpoint = services.latest(get_session())
    if checkpoint is None:
        abort(404, description="No audit checkpoint has been signed yet.")
    return _text(checkpoint.note)


@bp.route("/.well-known/audit-key")
def audit_key() -> Any:
    """The verifier key of the checkpoints, as a note verifier key: name+hash+key."""
    verifier = AuditKeyStore.for_app(current_app).verifier()
    if verifier is None:
        abort(404, description="No audit key has been made yet.")
    return _text(f"{verifier}\n")
