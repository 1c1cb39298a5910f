"""The file store on both backends: the folder and an S3 server over HTTP on loopback.

Each operation is checked from outside the store (the folder's files, the bucket's keys read
with the tests' own client), and every read is checked against the recorded SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path

import pytest
from flask import Flask

from conftest import TEST_BUCKET, read_object, s3_client, stored_objects, write_object
from registry.files import (
    FileDamaged,
    FileMissing,
    LocalFileStore,
    StoreUnavailable,
    store_for,
)
from registry.files.s3 import S3FileStore

PDF = b"%PDF-1.4 a certificate\n%%EOF\n"


@pytest.fixture(params=["local", "s3"])
def file_store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_put_then_get_returns_the_bytes_and_their_digest(app: Flask) -> None:
    store = store_for(app)
    stored = store.put("0123abcd.pdf", PDF, "application/pdf")
    assert (stored.name, stored.content_type, stored.size, stored.sha256) == (
        "0123abcd.pdf", "application/pdf", len(PDF), sha(PDF))
    assert stored_objects(app) == ["0123abcd.pdf"]
    assert read_object(app, "0123abcd.pdf") == PDF
    assert store.get("0123abcd.pdf", sha(PDF)) == PDF
    assert store.exists("0123abcd.pdf")


def test_a_changed_object_is_refused_not_served(app: Flask) -> None:
    store = store_for(app)
    store.put("0123abcd.pdf", PDF, "application/pdf")
    write_object(app, "0123abcd.pdf", PDF.replace(b"certificate", b"forgery!!!!"))
    with pytest.raises(FileDamaged) as caught:
        store.get("0123abcd.pdf", sha(PDF))
    assert caught.value.name == "0123abcd.pdf"


def test_missing_object_is_its_own_error(app: Flask) -> None:
    store = store_for(app)
    with pytest.raises(FileMissing):
        store.get("feedface.pdf", sha(PDF))
    assert not store.exists("feedface.pdf")


def test_no_recorded_digest_reads_unchecked(app: Flask) -> None:
    # Photos stored before digests were kept (0015) have NULL until ``files import``.
    store = store_for(app)
    store.put("0123abcd.png", b"\x89PNG old photo", "image/png")
    assert store.get("0123abcd.png", None) == b"\x89PNG old photo"


def test_put_replaces_whole_and_delete_is_idempotent(app: Flask) -> None:
    store = store_for(app)
    store.put("0123abcd.pdf", PDF, "application/pdf")
    store.put("0123abcd.pdf", PDF + b"v2", "application/pdf")
    assert store.get("0123abcd.pdf", sha(PDF + b"v2")) == PDF + b"v2"
    store.delete("0123abcd.pdf")
    store.delete("0123abcd.pdf")
    assert stored_objects(app) == []


@pytest.mark.parametrize("name", ["../escape.pdf", "a/b.pdf", ".hidden", "..", "",
                                  "x\\y.pdf", "a" * 200])
def test_names_cannot_leave_the_folder_or_prefix(app: Flask, tmp_path: Path, name: str) -> None:
    store = store_for(app)
    with pytest.raises(FileMissing):
        store.put(name, PDF, "application/pdf")
    with pytest.raises(FileMissing):
        store.get(name, None)
    assert stored_objects(app) == []
    assert not list(tmp_path.rglob("escape.pdf"))


def test_ready_when_the_store_answers(app: Flask) -> None:
    assert app.extensions["readiness"]["files"]() is None


def test_local_readiness_names_the_folder(tmp_path: Path) -> None:
    missing = LocalFileStore(tmp_path / "nowhere")
    assert missing.check() == f"upload folder {tmp_path / 'nowhere'} does not exist"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_local_readiness_says_when_the_folder_is_read_only(tmp_path: Path) -> None:
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o500)
    assert (LocalFileStore(read_only).check() or "").startswith(
        f"upload folder {read_only} is not writable")


def test_s3_readiness_names_bucket_and_endpoint_never_credentials(s3_endpoint: str) -> None:
    problem = S3FileStore("no-such-bucket", endpoint_url=s3_endpoint, region="us-east-1").check()
    assert problem == f"bucket no-such-bucket not found at {s3_endpoint}"
    assert S3FileStore(TEST_BUCKET, endpoint_url=s3_endpoint).check() is None
    down = f"http://127.0.0.1:{closed_port()}"
    problem = S3FileStore(TEST_BUCKET, endpoint_url=down).check() or ""
    assert problem.startswith(f"object store {down} unreachable")
    assert "registry-test-secret" not in problem and "registry-test" not in problem


def test_unreachable_s3_fails_fast_with_its_own_error(s3_endpoint: str) -> None:
    store = S3FileStore(TEST_BUCKET, endpoint_url=f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.get("0123abcd.pdf", None)
    with pytest.raises(StoreUnavailable):
        store.put("0123abcd.pdf", PDF, "application/pdf")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("prefix", ["registry/uploads", "/registry/uploads/"])
def test_s3_keys_live_under_the_prefix(s3_endpoint: str, prefix: str) -> None:
    S3FileStore(TEST_BUCKET, endpoint_url=s3_endpoint, prefix=prefix).put(
        "0123abcd.pdf", PDF, "application/pdf")
    listing = s3_client(s3_endpoint).list_objects_v2(Bucket=TEST_BUCKET, Prefix="registry/")
    assert [o["Key"] for o in listing["Contents"]] == ["registry/uploads/0123abcd.pdf"]
    s3_client(s3_endpoint).delete_object(Bucket=TEST_BUCKET, Key="registry/uploads/0123abcd.pdf")


@pytest.mark.parametrize(("config", "named"), [
    ({"FILE_STORE": "s3"}, "S3_BUCKET"),
    ({"FILE_STORE": "ftp"}, "FILE_STORE"),
])
def test_a_wrong_store_setting_refuses_to_start_naming_the_variable(
        tmp_path: Path, config: dict[str, str], named: str) -> None:
    from registry import create_app
    from registry.config import ConfigError

    with pytest.raises(ConfigError, match=named):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 40, "S3_BUCKET": None,
                    **config})
