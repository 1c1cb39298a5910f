"""The registry's audit key, in the database: one Ed25519 key of its own (never a label key)
that signs audit checkpoints, so every app server signs with it and publishes the same verifier
key. Its private half is sealed under the key-encryption key like the label keys' (another
table, another associated-data prefix: it never opens as a label key, nor a label key as it).
Its name, which is also the checkpoints' origin, is fixed when the key is made (``AUDIT_ORIGIN``,
default ``PUBLIC_HOST/audit-log``): the note key id covers the name, so renaming would orphan
every checkpoint an office keeps.

The functions take the session, the acting user (None for the CLI) and the KEK where a private
half is sealed or opened; they flush with their audit event and never commit. ``AuditKeyStore``
is one app's view, committing once per change (the ``audit`` commands and the well-known page).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from registry.audit import services as audit
from registry.audit.models import AuditCheckpoint
from registry.audit.tags import EventTag, ObjectType
from registry.checkpoints.keydir import AuditKeyError, AuditKeyFolder
from registry.checkpoints.models import ONE, AuditKey, sealing_context
from registry.checkpoints.note import NoteError, NoteSigner, VerifierKey, check_key_name
from registry.clock import utcnow
from registry.signing import sealed
from registry.signing.kek import Kek, KekError
from registry.signing.signer import KeyStoreError

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["AuditKeyError", "AuditKeyExists", "AuditKeyStore", "default_origin"]


class AuditKeyExists(AuditKeyError):
    """The registry has an audit key already: it is never replaced (offices trust its half)."""


def verifier(session: Session) -> VerifierKey | None:
    """The public half, without the KEK; None before the key is made."""
    row = session.exec(select(AuditKey.name, AuditKey.public_key)).first()
    return None if row is None else VerifierKey(row[0], bytes(row[1]))


def signer_of(row: AuditKey, kek: Kek) -> NoteSigner:
    """The row's private key, opened under the KEK and checked against its public half."""
    try:
        seed = kek.open(sealing_context(row.name), row.private_key, row.kek_id)
        key = Ed25519PrivateKey.from_private_bytes(seed)
    except (KekError, ValueError) as exc:
        raise AuditKeyError(f"the audit key cannot be opened: {exc}") from None
    signer = NoteSigner(row.name, key)
    if signer.public_raw != bytes(row.public_key):
        raise AuditKeyError("the stored audit key's private half belongs to another key")
    return signer


def signer(session: Session, kek: Kek) -> NoteSigner | None:
    row = session.get(AuditKey, ONE)
    return None if row is None else signer_of(row, kek)


def _facts(row: AuditKey) -> dict[str, Any]:
    """What an audit event says about the key: never anything of its private half."""
    return {"name": row.name, "verifier_key": str(VerifierKey(row.name, row.public_key)),
            "kek_id": row.kek_id, "imported_from": row.imported_from}


def _insert(session: Session, actor: Any, kek: Kek, key: Ed25519PrivateKey, name: str,
            action: EventTag.Key, imported_from: str | None = None) -> NoteSigner:
    try:
        check_key_name(name)
    except NoteError as exc:
        raise AuditKeyError(f"AUDIT_ORIGIN {name!r}: {exc}") from None
    try:
        sealed.require_same_kek(session, kek)
    except KekError as exc:
        raise AuditKeyError(str(exc)) from None
    note_signer = NoteSigner(name, key)
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    row = AuditKey(id=ONE, name=name, public_key=note_signer.public_raw,
                   private_key=kek.seal(sealing_context(name), seed), kek_id=kek.id,
                   created_at=utcnow(), imported_from=imported_from)
    # In a savepoint: the one-row primary key refuses a second key made at the same moment on
    # another server, and nothing of this one stays behind.
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise AuditKeyExists("another server made the audit key at the same moment") from None
    audit.record(session, actor=actor, action=action, object_type=ObjectType.AUDIT_KEY,
                 object_id=name, after=_facts(row))
    return note_signer


def create(session: Session, actor: Any, kek: Kek, name: str) -> NoteSigner:
    """Make the audit key; refused when there is one (``AuditKeyExists``)."""
    current = verifier(session)
    if current is not None:
        raise AuditKeyExists(f"the registry has an audit key already ({current})")
    return _insert(session, actor, kek, Ed25519PrivateKey.generate(), name,
                   EventTag.Key.AUDIT_CREATE)


def ensure(session: Session, actor: Any, kek: Kek, name: str) -> tuple[NoteSigner, bool]:
    """The audit signer, made when there is none: (signer, made here). Of two servers
    ensuring at once, one makes the key and the other opens it."""
    current = signer(session, kek)
    if current is not None:
        return current, False
    try:
        return create(session, actor, kek, name), True
    except AuditKeyExists:
        winner = signer(session, kek)
        if winner is None:
            raise
        return winner, False


def import_folder(session: Session, actor: Any, kek: Kek,
                  folder: AuditKeyFolder) -> tuple[VerifierKey, bool]:
    """Bring a key kept the old way (``AUDIT_KEY_DIR``) into the database, name and key
    unchanged, so the verifier key the offices keep stays valid: (its verifier key, imported
    now). The same key already in the database: nothing to do. Another key there: refused."""
    legacy = folder.signer()
    if legacy is None:
        raise AuditKeyError(f"{folder.directory} holds no audit key")
    current = verifier(session)
    if current is not None:
        if current == legacy.verifier:
            return current, False
        raise AuditKeyExists(
            f"the registry has another audit key already ({current}); the folder's key "
            f"({legacy.verifier}) is not imported: the key offices trust is never replaced")
    _insert(session, actor, kek, legacy.private_key, legacy.name, EventTag.Key.AUDIT_IMPORT,
            imported_from=str(folder.directory))
    return legacy.verifier, True


def has_checkpoints(session: Session) -> bool:
    return session.exec(select(AuditCheckpoint.size).limit(1)).first() is not None


class AuditKeyStore:
    """One app's view of the audit key: each change its own committed transaction."""

    def __init__(self, engine: Engine, kek_loader: Callable[[], Kek],
                 legacy: AuditKeyFolder) -> None:
        self.engine = engine
        self._kek_loader = kek_loader
        self.legacy = legacy

    @classmethod
    def for_app(cls, app: Flask) -> AuditKeyStore:
        from registry.signing.keys import store_for

        config = app.config
        directory = config.get("AUDIT_KEY_DIR") or Path(config["KEY_DIR"]) / "audit"
        return cls(app.extensions["engine"], store_for(app).kek,
                   AuditKeyFolder(directory, config.get("KEY_PASSPHRASE")))

    def kek(self) -> Kek:
        try:
            return self._kek_loader()
        except (KekError, KeyStoreError) as exc:
            raise AuditKeyError(str(exc)) from None

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def verifier(self) -> VerifierKey | None:
        with self._session() as session:
            return verifier(session)

    def signer(self) -> NoteSigner | None:
        with self._session() as session:
            return signer(session, self.kek())

    def create(self, name: str) -> NoteSigner:
        with self._session() as session:
            made = create(session, None, self.kek(), name)
            session.commit()
        return made

    def ensure(self, name: str) -> tuple[NoteSigner, bool]:
        with self._session() as session:
            result = ensure(session, None, self.kek(), name)
            session.commit()
        return result

    def import_dir(self, folder: AuditKeyFolder | None = None) -> tuple[VerifierKey, bool]:
        with self._session() as session:
            result = import_folder(session, None, self.kek(), folder or self.legacy)
            session.commit()
        return result

    def first_use(self, name: str) -> tuple[NoteSigner, str | None]:
        """The signer for ``audit checkpoint``: (signer, what was done to get it, or None).
        With no key in the database yet, a key in this server's legacy folder is imported
        (what a registry upgraded from the folder days does on its checkpoint server); failing
        that a registry that has signed checkpoints already refuses to make a new key, since
        the offices hold the old one's verifier key; a new registry makes its key."""
        with self._session() as session:
            current = signer(session, self.kek())
            if current is not None:
                return current, None
            new_registry = not has_checkpoints(session)
        if self.legacy.holds_key():
            verifier_key, imported = self.import_dir()
            opened = self.signer()
            assert opened is not None and opened.verifier == verifier_key
            return opened, (f"imported the audit key from {self.legacy.directory}"
                            if imported else None)
        if not new_registry:
            raise AuditKeyError(
                "the registry has signed checkpoints with an audit key that is not in the "
                "database: import it where its folder is kept (flask --app registry audit key "
                "import-dir DIR). Only if it is lost: flask --app registry audit key create, "
                "and give the offices the new verifier key")
        made, created = self.ensure(name)
        return made, "made the audit key" if created else None


def default_origin(app: Flask) -> str:
    return app.config.get("AUDIT_ORIGIN") or f"{app.config['PUBLIC_HOST']}/audit-log"
