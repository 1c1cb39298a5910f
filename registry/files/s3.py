"""Files in an S3-compatible object store (``FILE_STORE=s3``): MinIO on the province's
premises, AWS S3 or any other server speaking the S3 API, shared by every app server.

Credentials come from boto3's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, an instance role); the registry's configuration names only where the bucket is.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from registry.files.base import (
    CHUNK,
    FileMissing,
    StoredFile,
    StoreUnavailable,
    check_name,
    verified,
)

# A slow or unreachable store must not hold a worker for minutes: boto3's defaults are 60 s
# to connect and 60 s to read, tried up to 5 times. A 10 MB upload to a store on the same
# network takes well under the read timeout.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=20,
    retries={"max_attempts": 3, "mode": "standard"},
    # Path-style URLs (endpoint/bucket/key) work with MinIO and every S3 API without
    # wildcard DNS for bucket names.
    s3={"addressing_style": "path"},
)
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


class S3FileStore:
    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, prefix: str = "",
                 client_options: dict[str, Any] | None = None) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client_options = client_options or {}
        self._client: Any = None
        self._pid = 0
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """One client per process, made on first use. boto3 clients are thread-safe but
        the session that makes them is not; a worker forked after the app was built makes
        its own rather than sharing the parent's connection pool."""
        if self._client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    self._client = boto3.session.Session().client(
                        "s3", endpoint_url=self.endpoint_url, region_name=self.region,
                        config=CLIENT_CONFIG, **self._client_options)
                    self._pid = os.getpid()
        return self._client

    def key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def _unavailable(self, name: str, exc: Exception) -> StoreUnavailable:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            detail = f"{error.get('Code', '?')} {error.get('Message', '')}".strip()
        else:
            detail = type(exc).__name__
        return StoreUnavailable(name, f"{self.describe()}: {detail}")

    def put(self, name: str, data: bytes, content_type: str) -> StoredFile:
        digest = hashlib.sha256(data)
        try:
            # The store checks the SHA-256 of what it received against ours, so a body
            # damaged on the way is refused rather than stored.
            self.client.put_object(
                Bucket=self.bucket, Key=self.key(name), Body=data, ContentType=content_type,
                ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                Metadata={"sha256": digest.hexdigest()})
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(name, exc) from exc
        return StoredFile(name, content_type, len(data), digest.hexdigest())

    def put_path(self, name: str, path: str, content_type: str, sha256: str) -> StoredFile:
        # boto3's managed transfer: multipart in parallel parts above 8 MB, so a 55 MB label
        # job is never one request that a flaky link must carry whole.
        try:
            self.client.upload_file(path, self.bucket, self.key(name), ExtraArgs={
                "ContentType": content_type, "Metadata": {"sha256": sha256}})
        except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
            raise self._unavailable(name, exc) from exc
        return StoredFile(name, content_type, os.path.getsize(path), sha256)

    def read_range(self, name: str, start: int, stop: int) -> Iterator[bytes]:
        if stop <= start:
            return iter(())
        response = self._get_object(name, Range=f"bytes={start}-{stop - 1}")
        return _body_chunks(response["Body"])

    def get(self, name: str, expected_sha256: str | None) -> bytes:
        response = self._get_object(name)
        try:
            data: bytes = response["Body"].read()
        except BotoCoreError as exc:
            raise self._unavailable(name, exc) from exc
        return verified(name, data, expected_sha256)

    def _get_object(self, name: str, **extra: str) -> Any:
        """The object's GET response; FileMissing or StoreUnavailable instead of boto's
        errors."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(name), **extra)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                raise FileMissing(name, f"not in {self.describe()}") from None
            raise self._unavailable(name, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(name, exc) from exc

    def delete(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(name, exc) from exc

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return False
            raise self._unavailable(name, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(name, exc) from exc
        return True

    def check(self) -> str | None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            if code in _MISSING_CODES:
                return f"bucket {self.bucket} not found at {self._where()}"
            if code in ("403", "AccessDenied"):
                return f"access to bucket {self.bucket} at {self._where()} denied"
            return f"bucket {self.bucket} at {self._where()}: error {code}"
        except NoCredentialsError:
            return (f"no credentials for bucket {self.bucket} at {self._where()} "
                    "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or another boto3 source)")
        except BotoCoreError as exc:
            return f"object store {self._where()} unreachable ({type(exc).__name__})"
        return None

    def _where(self) -> str:
        return self.endpoint_url or f"S3 region {self.region or 'default'}"

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self._where()}"
