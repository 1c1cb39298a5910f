"""The app's file store: made from the configuration at start-up, reached by views and
commands through ``file_store()``, and its failures answered as pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, make_response
from flask_babel import gettext as _

from registry.files import (
    FileDamaged,
    FileMissing,
    FileStore,
    FileStoreConfigError,
    FileStoreError,
    make_store,
    store_for,
)

__all__ = ["file_store", "init_app"]


def file_store() -> FileStore:
    return store_for(current_app)


def init_app(app: Flask) -> None:
    from registry.config import ConfigError
    from registry.web.errors import render_error

    try:
        store = make_store(app.config)
    except FileStoreConfigError as exc:
        raise ConfigError(str(exc)) from None
    app.extensions["file_store"] = store
    from registry.files.cli import files_cli

    app.cli.add_command(files_cli)
    app.extensions.setdefault("readiness", {})["files"] = store.check

    @app.errorhandler(FileStoreError)
    def _file_store_error(exc: FileStoreError) -> Any:
        if isinstance(exc, FileMissing):
            app.logger.error("stored file missing: %s (%s)", exc.name, exc.detail)
            return render_error(404, _("The file is missing from the registry's file store. "
                                       "The problem has been logged."))
        if isinstance(exc, FileDamaged):
            app.logger.error("stored file damaged: %s (%s)", exc.name, exc.detail)
            return render_error(503, _("The file failed its integrity check and is not "
                                       "served. The problem has been logged."))
        app.logger.error("file store unavailable for %s (%s)", exc.name, exc.detail)
        response = make_response(render_error(503, _(
            "The file store is not reachable at the moment. Please try again in a few "
            "minutes.")))
        response.headers["Retry-After"] = "60"
        return response
