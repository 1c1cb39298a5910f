"""The registry's label signing keys, in the database: one truth for every app server.

``store_for(app)`` is the process's view (``registry.signing.store``); ``signer()`` is what a
label download signs with; ``flask --app registry keys …`` manages them (``registry.signing.cli``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask_babel import gettext as _

from registry.signing import kek as kek_module
from registry.signing.signer import KeyStoreError, KeyStoreUnavailable, Signer
from registry.signing.store import KeyStore

__all__ = ["KeyStore", "KeyStoreError", "KeyStoreUnavailable", "init_app", "keystore",
           "signer", "store_for"]


def store_for(app: Flask) -> KeyStore:
    store = app.extensions.get("keystore")
    if store is None:
        cfg = app.config
        store = app.extensions["keystore"] = KeyStore(
            app.extensions["engine"],
            lambda: kek_module.load(cfg.get("KEY_ENCRYPTION_KEY"),
                                    cfg.get("KEY_ENCRYPTION_KEY_FILE"),
                                    instance_path=Path(app.instance_path),
                                    production=bool(cfg.get("PRODUCTION")),
                                    fallback=cfg.get("KEY_ENCRYPTION_KEY_FALLBACK"),
                                    fallback_file=cfg.get("KEY_ENCRYPTION_KEY_FALLBACK_FILE")))
    return store


def keystore() -> KeyStore:
    return store_for(current_app)


def signer() -> Signer:
    """The active signer. A development registry makes its first key on demand (so
    ``make run`` works); production never does (``keys ensure`` is a deliberate step)."""
    store = keystore()
    try:
        return store.active_signer()
    except KeyStoreUnavailable:
        raise
    except KeyStoreError:
        if current_app.config.get("PRODUCTION"):
            raise KeyStoreUnavailable("no active signing key (flask --app registry keys "
                                      "ensure)") from None
        store.ensure()
        return store.active_signer()


def _unavailable(exc: KeyStoreUnavailable) -> Any:
    """503, never a 500 nor (on the resolver) "not genuine": the registry cannot vouch for
    a label just now, which says nothing about the label."""
    from registry.web.errors import render_error

    current_app.logger.error("key store unavailable on %s: %s", request.path, exc)
    if request.blueprint == "verify":
        message = _("Verification is temporarily unavailable. Please scan the label again in "
                    "a few minutes; this says nothing about the label.")
    elif request.blueprint == "accounts":  # the second factor: its seeds are sealed too
        message = _("Signing in with the second factor is temporarily unavailable. Please try "
                    "again in a few minutes.")
    else:
        message = _("Label signing is temporarily unavailable. Please try again in a few "
                    "minutes.")
    response = render_error(503, message)
    body, status = response[0], response[1]
    headers = dict(response[2]) if len(response) > 2 else {}
    headers["Retry-After"] = "30"
    headers["Cache-Control"] = "no-store"
    return body, status, headers


def _kek_refused(exc: kek_module.KekError) -> Any:
    """A sealed secret that does not open under this server's KEK (a user's seed after a
    ``keys rekey`` the server has not been restarted for): 503 as for the signing keys."""
    return _unavailable(KeyStoreUnavailable(str(exc)))


def init_app(app: Flask) -> None:
    from registry.signing.cli import keys_cli

    app.cli.add_command(keys_cli)
    app.register_error_handler(KeyStoreUnavailable, _unavailable)
    app.register_error_handler(kek_module.KekError, _kek_refused)
    store = store_for(app)
    app.extensions.setdefault("readiness", {})["keys"] = lambda: store.check(
        made_on_demand=not app.config.get("PRODUCTION"))
