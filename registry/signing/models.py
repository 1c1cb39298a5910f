"""Signing keys and which key signed which print job: one truth for every app server."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, text
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime

# A key is active while neither retired nor revoked; the partial unique index on a constant
# admits one such row, so two servers running ``keys ensure`` at once cannot both make one.
ACTIVE = "retired_at IS NULL AND revoked_at IS NULL"


class SigningKey(SQLModel, table=True):
    """An Ed25519 label signing key. The private half is AES-256-GCM ciphertext under the
    key-encryption key named by ``kek_id`` (never stored in clear), and NULL once revoked: a
    revoked key never signs again."""

    __tablename__ = "signing_key"
    __table_args__ = (
        Index("uq_signing_key_active", text("(1)"), unique=True,
              sqlite_where=text(ACTIVE), postgresql_where=text(ACTIVE)),
    )

    kid: str = Field(sa_column=Column(String(11), primary_key=True))
    alg: str = Field(default="Ed25519", max_length=16)
    public_key: str = Field(max_length=64)  # base64url of the raw 32 bytes
    private_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    kek_id: str | None = Field(default=None, max_length=16)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    retired_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    # From when labels claiming this key are no longer the registry's: those it signed
    # before keep verifying (label_signature says which), any other does not.
    revoked_from: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    revocation_reason: str | None = Field(default=None, max_length=500)


class LabelSignature(SQLModel, table=True):
    """Key ``kid`` first signed print job ``job_id``'s labels at ``first_signed_at`` (a
    download or reprint for the print shop). A revocation with an effective time keeps the
    labels the registry signed before it, and only those, verifying."""

    __tablename__ = "label_signature"

    # The key (job_id, kid) is what makes "insert if absent" race-safe on both databases.
    job_id: int = Field(sa_column=Column(ForeignKey("print_job.id"), primary_key=True))
    kid: str = Field(sa_column=Column(String(11), ForeignKey("signing_key.kid"),
                                      primary_key=True, index=True))
    first_signed_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
