"""The key-encryption key (KEK) that wraps every secret stored in the database: the private
signing keys (``wrap``), the users' TOTP seeds and the audit key (``seal``); the list of sealed
columns and the re-sealing under a new KEK are ``registry.signing.sealed``.

No Flask, no database. The KEK is 32 random bytes, given base64-encoded in
``KEY_ENCRYPTION_KEY`` or in a file named by ``KEY_ENCRYPTION_KEY_FILE``; a development
registry with neither makes ``instance/key-encryption-key`` once. A second one in
``KEY_ENCRYPTION_KEY_FALLBACK`` (or ``_FALLBACK_FILE``) opens what it sealed but never seals:
how a replacement reaches several servers without an outage. Private keys are sealed with
AES-256-GCM; the associated data binds the key id, so a ciphertext moved to another row does
not open, and each row names the KEK that sealed it (``kek_id``), so a wrong KEK is a clear
error rather than garbage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEK_BYTES = 32
NONCE_BYTES = 12
DEV_FILE = "key-encryption-key"
# Domain separation: the KEK's id is a hash of the KEK, never the KEK itself.
_ID_PREFIX = b"made-in-bali-ntb-ntt kek id\x00"
_AAD_PREFIX = b"made-in-bali-ntb-ntt signing key\x00"
# Other secrets (a user's TOTP seed, the audit key) under another prefix, each bound to its
# context (``totp:<user id>``, ``audit-key:<name>``): none opens as a signing key or as another.
_SECRET_PREFIX = b"made-in-bali-ntb-ntt account secret\x00"
HOW_TO_MAKE = ('python -c "import base64,os;print(base64.b64encode(os.urandom(32)).decode())"')


class KekError(ValueError):
    """The key-encryption key is missing, malformed or not the one a key was sealed with."""


@dataclass(frozen=True, slots=True, repr=False)
class Kek:
    key: bytes
    # A second KEK whose secrets this one opens but never seals under
    # (KEY_ENCRYPTION_KEY_FALLBACK): while a replacement reaches server after server, each
    # opens what the others sealed, whichever of the two they seal under (README "Replacing
    # the KEK on several servers").
    fallback: bytes | None = None

    def __repr__(self) -> str:  # never print the key itself (logs, tracebacks)
        extra = f", fallback={_id_of(self.fallback)}" if self.fallback else ""
        return f"Kek(id={self.id}{extra})"

    @property
    def id(self) -> str:
        """The id of the KEK that seals (the fallback never does)."""
        return _id_of(self.key)

    @property
    def ids(self) -> frozenset[str]:
        """The ids of every KEK whose secrets this one opens."""
        return frozenset({self.id, _id_of(self.fallback)} if self.fallback else {self.id})

    def sealing(self) -> Kek:
        """This KEK without its fallback."""
        return Kek(self.key)

    def _key_for(self, kek_id: str | None) -> bytes | None:
        if kek_id is None or kek_id == self.id:
            return self.key
        if self.fallback is not None and kek_id == _id_of(self.fallback):
            return self.fallback
        return None

    def _configured(self) -> str:
        return (f"{self.id} (fallback {_id_of(self.fallback)})" if self.fallback
                else self.id)

    def wrap(self, kid: str, secret: bytes) -> bytes:
        """nonce ‖ AES-256-GCM(secret), bound to ``kid``."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.key).encrypt(nonce, secret, _AAD_PREFIX + kid.encode())

    def unwrap(self, kid: str, sealed: bytes, kek_id: str | None) -> bytes:
        key = self._key_for(kek_id)
        if key is None:
            raise KekError(
                f"the private key of {kid} was encrypted under key-encryption key {kek_id}, "
                f"but the configured KEY_ENCRYPTION_KEY is {self._configured()}: configure "
                f"the one the keys were made with")
        if len(sealed) <= NONCE_BYTES:
            raise KekError(f"the stored private key of {kid} is damaged")
        try:
            return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                       _AAD_PREFIX + kid.encode())
        except InvalidTag:
            raise KekError(f"the stored private key of {kid} does not open under the "
                           f"configured KEY_ENCRYPTION_KEY (wrong key, or the row was "
                           f"altered)") from None

    def seal(self, context: str, secret: bytes) -> bytes:
        """nonce ‖ AES-256-GCM(secret) of a secret other than a label key, bound to
        ``context`` (which names its row and kind, e.g. ``totp:<user id>``)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.key).encrypt(nonce, secret,
                                                _SECRET_PREFIX + context.encode())

    def open(self, context: str, sealed: bytes, kek_id: str) -> bytes:
        key = self._key_for(kek_id)
        if key is None:
            raise KekError(f"the secret {context} was encrypted under key-encryption key "
                           f"{kek_id}, but the configured KEY_ENCRYPTION_KEY is "
                           f"{self._configured()}")
        try:
            return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                       _SECRET_PREFIX + context.encode())
        except (InvalidTag, ValueError):
            raise KekError(f"the stored secret {context} does not open under the configured "
                           f"KEY_ENCRYPTION_KEY (wrong key, or the row was altered)") from None


def _id_of(key: bytes) -> str:
    digest = hashlib.sha256(_ID_PREFIX + key).digest()[:8]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def parse(text: str, source: str) -> Kek:
    """A KEK from its base64 text; ``source`` names where it came from for the message."""
    cleaned = text.strip()
    try:
        raw = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEK_BYTES:
        raise KekError(f"{source} must be the base64 of {KEK_BYTES} random bytes "
                       f"(make one with: {HOW_TO_MAKE})")
    return Kek(raw)


def load(value: str | None, file: str | None, *, instance_path: Path,
         production: bool, fallback: str | None = None,
         fallback_file: str | None = None) -> Kek:
    """The configured KEK: ``KEY_ENCRYPTION_KEY``, else the file ``KEY_ENCRYPTION_KEY_FILE``,
    else (development only) ``instance/key-encryption-key``, made on first use; with
    ``KEY_ENCRYPTION_KEY_FALLBACK`` (or ``_FALLBACK_FILE``) as its fallback when set."""
    kek = _given(value, file, "KEY_ENCRYPTION_KEY")
    if kek is None:
        if production:
            raise KekError("KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE must be set in "
                           f"production (make one with: {HOW_TO_MAKE})")
        kek = _development_kek(instance_path / DEV_FILE)
    other = _given(fallback, fallback_file, "KEY_ENCRYPTION_KEY_FALLBACK")
    if other is None:
        return kek
    if other.key == kek.key:
        raise KekError(f"KEY_ENCRYPTION_KEY_FALLBACK is the KEY_ENCRYPTION_KEY ({kek.id}): "
                       f"set the other key of the replacement there, or nothing")
    return Kek(kek.key, fallback=other.key)


def _given(value: str | None, file: str | None, name: str) -> Kek | None:
    """The KEK set in ``name`` or read from the file in ``name``_FILE; None when neither."""
    if value and file:
        raise KekError(f"set {name} or {name}_FILE, not both")
    if value:
        return parse(value, name)
    if file:
        try:
            text = Path(file).read_text("ascii")
        except (OSError, UnicodeError) as exc:
            raise KekError(f"{name}_FILE {file} cannot be read: "
                           f"{exc.__class__.__name__}") from None
        return parse(text, f"{name}_FILE ({file})")
    return None


def _development_kek(path: Path) -> Kek:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = base64.b64encode(os.urandom(KEK_BYTES)).decode()
        # O_EXCL and 0600 from the start: two workers starting together keep one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(text + "\n")
            return parse(text, str(path))
    return parse(path.read_text("ascii"), str(path))
