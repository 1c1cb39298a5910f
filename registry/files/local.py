"""Files in a folder on this machine: the embedded default (``FILE_STORE=local``)."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from registry.files.base import (
    FileMissing,
    StoredFile,
    StoreUnavailable,
    check_name,
    sha256_hex,
    verified,
)


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
