"""Uploaded files (evidence, product photos) in one store every app server shares.

``FILE_STORE=local`` keeps them in ``UPLOAD_DIR`` (the embedded default, one machine);
``FILE_STORE=s3`` in an S3-compatible bucket. Views and services reach the app's store through
``file_store()``; writes are tied to the request's transaction with ``put_in_transaction`` and
``delete_after_commit``, so a row never lacks its file and a failed request leaves no object.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, has_request_context, make_response
from flask_babel import gettext as _

from registry.files.base import (
    FileDamaged,
    FileMissing,
    FileStore,
    FileStoreError,
    StoredFile,
    StoreUnavailable,
)
from registry.files.local import LocalFileStore

__all__ = [
    "FileDamaged", "FileMissing", "FileStore", "FileStoreError", "LocalFileStore",
    "StoreUnavailable", "StoredFile", "delete_after_commit", "file_store", "init_app",
    "make_store", "put_in_transaction", "store_for",
]

log = logging.getLogger(__name__)


class FileStoreConfigError(RuntimeError):
    pass


def make_store(config: dict[str, Any] | Any) -> FileStore:
    """The store the configuration names; a wrong setting is refused, naming the variable."""
    kind = (config.get("FILE_STORE") or "local").strip().lower()
    if kind == "local":
        return LocalFileStore(config["UPLOAD_DIR"])
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise FileStoreConfigError("FILE_STORE=s3 needs S3_BUCKET (the bucket's name)")
        from registry.files.s3 import S3FileStore

        return S3FileStore(config["S3_BUCKET"], endpoint_url=config.get("S3_ENDPOINT_URL"),
                           region=config.get("S3_REGION"), prefix=config.get("S3_PREFIX") or "")
    raise FileStoreConfigError(f"FILE_STORE must be 'local' or 's3', not {kind!r}")


def store_for(app: Flask) -> FileStore:
    store: FileStore = app.extensions["file_store"]
    return store


def file_store() -> FileStore:
    return store_for(current_app)


def put_in_transaction(store: FileStore, name: str, data: bytes,
                       content_type: str) -> StoredFile:
    """Put an object that a row of the current transaction refers to.

    In a request, the object is deleted again unless the request commits: the hook is set
    before the put, so even a put that timed out after the store kept the bytes leaves no
    orphan. Outside a request (commands, the demo) the caller commits right after."""
    if has_request_context():
        from registry.db import on_rollback

        on_rollback(lambda: _delete_quietly(store, name, "after a rollback"))
    return store.put(name, data, content_type)


def delete_after_commit(store: FileStore, name: str) -> None:
    """Delete a replaced or removed file once the row's change is committed (never before:
    a failed request must still find it)."""
    from registry.db import on_commit

    on_commit(lambda: _delete_quietly(store, name, "after a commit"))


def _delete_quietly(store: FileStore, name: str, when: str) -> None:
    # The response is already decided: a store hiccup here leaves an unreferenced object
    # (logged, and listed by ``files import``) rather than turning the answer into a 500.
    try:
        store.delete(name)
    except FileStoreError as exc:
        log.warning("could not delete %s %s: %s", name, when, exc)


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
