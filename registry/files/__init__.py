"""Uploaded files (evidence, product photos) in one store every app server shares.

``FILE_STORE=local`` keeps them in ``UPLOAD_DIR`` (the embedded default, one machine);
``FILE_STORE=s3`` in an S3-compatible bucket. Views reach the app's store through
``registry.files.web.file_store()`` and hand it to services; writes are tied to the session's
transaction with ``put_in_transaction`` and ``delete_after_commit``, so a row never lacks its
file and a failed request leaves no object. Nothing here imports Flask.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from registry.db import on_commit, on_rollback
from registry.files.base import (
    FileDamaged,
    FileMissing,
    FileStore,
    FileStoreError,
    StoredFile,
    StoreUnavailable,
)
from registry.files.local import LocalFileStore

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "FileDamaged", "FileMissing", "FileStore", "FileStoreError", "LocalFileStore",
    "StoreUnavailable", "StoredFile", "delete_after_commit", "make_store", "put_in_transaction",
    "store_for",
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
    """The store ``registry.files.web.init_app`` gave ``app``."""
    store: FileStore = app.extensions["file_store"]
    return store


def put_in_transaction(session: Session, store: FileStore, name: str, data: bytes,
                       content_type: str) -> StoredFile:
    """Put an object that a row of ``session``'s transaction refers to.

    The object is deleted again unless the transaction commits: the hook is set before the
    put, so even a put that timed out after the store kept the bytes leaves no orphan."""
    on_rollback(session, lambda: _delete_quietly(store, name, "after a rollback"))
    return store.put(name, data, content_type)


def delete_after_commit(session: Session, store: FileStore, name: str) -> None:
    """Delete a replaced or removed file once ``session``'s change is committed (never before:
    a failed request must still find it)."""
    on_commit(session, lambda: _delete_quietly(store, name, "after a commit"))


def _delete_quietly(store: FileStore, name: str, when: str) -> None:
    # The response is already decided: a store hiccup here leaves an unreferenced object
    # (logged, and listed by ``files import``) rather than turning the answer into a 500.
    try:
        store.delete(name)
    except FileStoreError as exc:
        log.warning("could not delete %s %s: %s", name, when, exc)
