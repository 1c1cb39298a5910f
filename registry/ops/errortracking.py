"""Optional error tracking (issue 13 §3): with ``SENTRY_DSN`` set, unexpected errors go to
Sentry (or anything speaking its protocol: GlitchTip, a self-hosted Sentry) with the request's
method, route and id.

sentry-sdk is an optional extra (``pip install '.[sentry]'``), imported only when the DSN is
set; a DSN without the package refuses start rather than drop every error silently. No personal
data is sent (sentry-sdk's default: no cookies, no user, no client address), no tracing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from registry.config import ConfigError
from registry.ops.logs import request_id

if TYPE_CHECKING:  # the optional extra: its types only where it is installed
    from sentry_sdk.types import Event, Hint


def _with_request_id(event: Event, _hint: Hint) -> Event:
    rid = request_id.get()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return event


def init_app(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    try:
        import sentry_sdk
        from sentry_sdk.integrations.flask import FlaskIntegration
        from sentry_sdk.utils import BadDsn
    except ImportError:
        raise ConfigError("SENTRY_DSN is set but sentry-sdk is not installed: install the "
                          "registry with its [sentry] extra (pip install "
                          "'made-in-bali-ntb-ntt-registry[sentry]'), or unset SENTRY_DSN"
                          ) from None
    try:
        # Process-wide: gunicorn's workers each initialise it as they load the app.
        sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()],
                        environment=app.config.get("SENTRY_ENVIRONMENT"),
                        traces_sample_rate=None,
                        before_send=_with_request_id)
    except BadDsn as exc:
        raise ConfigError(f"SENTRY_DSN is not a valid DSN: {exc}") from None
