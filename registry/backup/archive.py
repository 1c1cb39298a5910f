"""The backup archive's format, without Flask or the database.

One uncompressed tar file:

- ``manifest.json`` first: format, created at, registry version, schema revision, the
  columns and row count of every table, and the size and SHA-256 of every other member;
- ``db/<table>.jsonl``: one JSON object per row, values in the neutral form ``encode`` gives
  (so a SQLite backup restores into PostgreSQL and back);
- ``files/<name>``: every object of the file store a row refers to.

Tar rather than zip: it is written as a stream (no seeking, so it can go to a pipe or a tape),
every system can list and unpack it with standard tools, and it adds no compression of its
own (the files are PDFs and JPEGs, already compressed; an operator may gzip the whole). The
integrity check is ours, SHA-256 per member from the manifest, not the container's CRC, so a
damaged member is named whatever container damage looks like.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

FORMAT = "made-in-bali-registry-backup/1"
MANIFEST = "manifest.json"
KEK_WARNING = (
    "This archive does NOT contain the key-encryption key (KEY_ENCRYPTION_KEY or "
    "KEY_ENCRYPTION_KEY_FILE), nor SECRET_KEY. The private halves of the signing keys are in "
    "db/signing_key.jsonl, sealed under the KEK: without the KEK kept separately, this backup "
    "can never sign a label again. Keep the KEK apart from the archive.")
_MEMBER = re.compile(r"(db/[a-z_]{1,63}\.jsonl|files/[A-Za-z0-9][A-Za-z0-9_.-]{0,140})")
_CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive cannot be used; the message names the member when one is at fault."""


# ------------------------------------------------------------------ values

def encode(value: Any) -> Any:
    """A column value as JSON. Dates, datetimes, decimals and bytes become strings; which one
    a string stands for is the target column's type, so ``decode`` needs no tags."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def decode(value: Any, python_type: type | None) -> Any:
    if value is None or python_type is None:
        return value
    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    if python_type is dt.time:
        return dt.time.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(value)
    if python_type is bytes:
        return base64.b64decode(value, validate=True)
    return value


def row_line(row: dict[str, Any]) -> bytes:
    return json.dumps({k: encode(v) for k, v in row.items()}, ensure_ascii=False,
                      separators=(",", ":")).encode() + b"\n"


# ------------------------------------------------------------------ members

@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str


def _stream_digest(source: IO[bytes], copy_to: IO[bytes] | None = None) -> tuple[int, str]:
    """Size and SHA-256 of ``source`` read in chunks, copying it to ``copy_to`` on the way."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return size, digest.hexdigest()


def file_digest(path: Path) -> Member:
    with open(path, "rb") as fh:
        size, sha256 = _stream_digest(fh)
    return Member("", size, sha256)


def write_archive(target: IO[bytes], manifest: dict[str, Any],
                  members: list[tuple[str, Path]]) -> None:
    """Write the manifest, then each staged member (name in the archive, staged file)."""
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    with tarfile.open(fileobj=target, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        info.mode = 0o600
        tar.addfile(info, io.BytesIO(body))
        for name, path in members:
            info = tarfile.TarInfo(name)
            info.size = path.stat().st_size
            info.mode = 0o600
            with open(path, "rb") as fh:
                tar.addfile(info, fh)


@dataclass
class Unpacked:
    manifest: dict[str, Any]
    directory: Path

    def path(self, name: str) -> Path:
        return self.directory / name

    def rows(self, table: str) -> Iterator[dict[str, Any]]:
        with open(self.path(f"db/{table}.jsonl"), "rb") as fh:
            for line in fh:
                yield json.loads(line)

    def file_names(self) -> list[str]:
        return sorted(m.removeprefix("files/") for m in self.manifest["members"]
                      if m.startswith("files/"))


def unpack_verified(source: Path, directory: Path) -> Unpacked:
    """Unpack ``source`` into ``directory`` (which must be empty), checking every member
    against the manifest's size and SHA-256. Raises ``ArchiveError`` naming the first member
    that is damaged, missing or unexpected; nothing outside ``directory`` is written."""
    try:
        with tarfile.open(source, mode="r|") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise ArchiveError(f"{source} is not a registry backup: it does not begin "
                                   f"with {MANIFEST}")
            manifest = _read_manifest(tar, first)
            expected: dict[str, dict[str, Any]] = manifest["members"]
            seen: set[str] = set()
            # next(), not iteration: iterating a stream starts again at the manifest.
            while (info := tar.next()) is not None:
                name = info.name
                if name not in expected or name in seen or not info.isfile():
                    raise ArchiveError(f"member {name} is not listed in the manifest "
                                       "(a damaged or altered archive)")
                seen.add(name)
                _extract_checked(tar, info, directory / name, expected[name])
    except tarfile.TarError as exc:
        raise ArchiveError(f"{source} is damaged or not a tar archive ({exc})") from None
    except OSError as exc:
        raise ArchiveError(f"cannot read {source}: {exc.strerror or exc}") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveError(f"member {missing[0]} is missing from the archive "
                           f"({len(missing)} missing)")
    return Unpacked(manifest, directory)


def _read_manifest(tar: tarfile.TarFile, info: tarfile.TarInfo) -> dict[str, Any]:
    fh = tar.extractfile(info)
    assert fh is not None
    try:
        manifest = json.loads(fh.read(info.size))
    except ValueError:
        raise ArchiveError(f"{MANIFEST} is damaged (not valid JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{MANIFEST} is not a {FORMAT} manifest")
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
            isinstance(m, str) and _MEMBER.fullmatch(m) and isinstance(v, dict)
            and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
            for m, v in members.items()):
        raise ArchiveError(f"{MANIFEST} is damaged (its member list is malformed)")
    for key in ("schema_revision", "tables"):
        if key not in manifest:
            raise ArchiveError(f"{MANIFEST} is damaged (no {key})")
    return manifest


def _extract_checked(tar: tarfile.TarFile, info: tarfile.TarInfo, path: Path,
                     expected: dict[str, Any]) -> None:
    fh = tar.extractfile(info)
    assert fh is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        size, sha256 = _stream_digest(fh, out)
    if size != expected["size"] or sha256 != expected["sha256"].lower():
        raise ArchiveError(f"member {info.name} is damaged: SHA-256 {sha256} "
                           f"({size} bytes) where the manifest recorded {expected['sha256']} "
                           f"({expected['size']} bytes)")
