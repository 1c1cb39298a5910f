"""The audit checkpoint key: one row, in the database, so every app server signs checkpoints
with the same key and publishes the same verifier key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime

ONE = 1


def sealing_context(name: str) -> str:
    """What the audit key's sealed private half is bound to: a ciphertext of another row or
    kind (a user's seed, ``totp:…``) does not open as the audit key."""
    return f"audit-key:{name}"


class AuditKey(SQLModel, table=True):
    """The registry's Ed25519 audit key (never a label key: its own table, and its private half
    sealed under another associated-data prefix than a label key's).

    The primary key admits one value only (``id = 1``): of two servers making the key at the
    same moment the database keeps one, and the other is told. ``name`` is the note key's name
    and the checkpoints' origin, fixed at creation: the key id covers it, so renaming would
    orphan every checkpoint an office keeps."""

    __tablename__ = "audit_key"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_key_one"),)

    id: int = Field(default=ONE, sa_column=Column(Integer, primary_key=True,
                                                   autoincrement=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # raw 32 bytes
    private_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # sealed seed
    kek_id: str = Field(max_length=16)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    # The folder an existing key was imported from (None: made in the database).
    imported_from: str | None = Field(default=None, max_length=500)
