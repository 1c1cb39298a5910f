"""Files in a folder on this machine: the embedded default (``FILE_STORE=local``)."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from registry.files.base import (
    CHUNK,
    FileMissing,
    StoredFile,
    StoreUnavailable,
    check_name,
    sha256_hex,
    verified,
)


def _chunks(fh: BinaryIO, start: int, stop: int) -> Iterator[bytes]:
    with fh:
        fh.seek(start)
        left = stop - start
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


class LocalFileStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        return self.directory / check_name(name)

    def put(self, name: str, data: bytes, content_type: str) -> StoredFile:
        path = self._path(name)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Written beside the target and renamed over it: a crash or a reader in between
            # sees no half-written file under the real name.
            tmp = self.directory / f".{name}.{secrets.token_hex(4)}.part"
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailable(name, f"{self.directory}: {exc.strerror or exc}") from exc
        return StoredFile(name, content_type, len(data), sha256_hex(data))

    def put_path(self, name: str, path: str, content_type: str, sha256: str) -> StoredFile:
        target = self._path(name)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{name}.{secrets.token_hex(4)}.part"
            try:
                shutil.copyfile(path, tmp)
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailable(name, f"{self.directory}: {exc.strerror or exc}") from exc
        return StoredFile(name, content_type, target.stat().st_size, sha256)

    def read_range(self, name: str, start: int, stop: int) -> Iterator[bytes]:
        try:
            fh = open(self._path(name), "rb")  # noqa: SIM115 (closed by the generator)
        except FileNotFoundError:
            raise FileMissing(name, f"not in {self.directory}") from None
        except OSError as exc:
            raise StoreUnavailable(name, f"{self.directory}: {exc.strerror or exc}") from exc
        return _chunks(fh, start, stop)

    def get(self, name: str, expected_sha256: str | None) -> bytes:
        try:
            data = self._path(name).read_bytes()
        except FileNotFoundError:
            raise FileMissing(name, f"not in {self.directory}") from None
        except OSError as exc:
            raise StoreUnavailable(name, f"{self.directory}: {exc.strerror or exc}") from exc
        return verified(name, data, expected_sha256)

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailable(name, f"{self.directory}: {exc.strerror or exc}") from exc

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def check(self) -> str | None:
        if not self.directory.is_dir():
            return f"upload folder {self.directory} does not exist"
        # A real write: os.access() says yes to root even on a read-only mount.
        try:
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".ready-"):
                pass
        except OSError as exc:
            return f"upload folder {self.directory} is not writable ({exc.strerror or exc})"
        return None

    def describe(self) -> str:
        return f"folder {self.directory}"
