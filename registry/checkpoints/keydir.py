"""The audit key's legacy folder: how the registry kept its audit key before it moved into the
database (``registry.checkpoints.keys``), in ``AUDIT_KEY_DIR`` (default ``KEY_DIR/audit``):
``audit-key.pem`` (PKCS#8, encrypted when ``KEY_PASSPHRASE`` is set) and ``audit-key.json``
(its name and verifier key). Read by ``audit key import-dir``; no Flask, no database."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.checkpoints.note import NoteError, NoteSigner, VerifierKey, check_key_name

PEM_FILE = "audit-key.pem"
META_FILE = "audit-key.json"


class AuditKeyError(RuntimeError):
    """The audit key is missing, damaged, cannot be opened or would be replaced."""


class AuditKeyFolder:
    def __init__(self, directory: str | os.PathLike[str], passphrase: bytes | str | None = None):
        self.directory = Path(directory)
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        self._passphrase = passphrase or None

    def verifier(self) -> VerifierKey | None:
        """The public half, without unlocking the private key; None before the first one."""
        try:
            meta = json.loads((self.directory / META_FILE).read_text("utf-8"))
            return VerifierKey.parse(meta["verifier_key"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, NoteError) as exc:
            raise AuditKeyError(f"{self.directory / META_FILE} is damaged: {exc}") from None

    def signer(self) -> NoteSigner | None:
        verifier = self.verifier()
        if verifier is None:
            return None
        try:
            key = serialization.load_pem_private_key((self.directory / PEM_FILE).read_bytes(),
                                                     password=self._passphrase)
        except FileNotFoundError:
            raise AuditKeyError("the audit key's private half is missing") from None
        except (TypeError, ValueError) as exc:
            raise AuditKeyError(f"cannot unlock the audit key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError("the audit key is not an Ed25519 key")
        signer = NoteSigner(verifier.name, key)
        if signer.public_raw != verifier.public_raw:
            raise AuditKeyError("the audit key file holds another key than its published half")
        return signer

    def holds_key(self) -> bool:
        return (self.directory / META_FILE).exists() or (self.directory / PEM_FILE).exists()

    def create(self, name: str) -> NoteSigner:
        """Make a key the old way (a forger's key in the tests, a legacy folder to import);
        refuses to replace one (O_EXCL)."""
        check_key_name(name)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self._passphrase) if self._passphrase
            else serialization.NoEncryption())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                encryption)
        try:
            fd = os.open(self.directory / PEM_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise AuditKeyError(f"an audit key exists already in {self.directory}") from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        signer = NoteSigner(name, key)
        meta = {"name": name, "verifier_key": str(signer.verifier)}
        tmp = self.directory / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
        os.replace(tmp, self.directory / META_FILE)
        return signer
