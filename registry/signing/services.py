"""Label signing keys in the database: create, ensure, rotate, revoke, import a legacy folder.

Each service takes the session, the acting user (None for the CLI) and the key-encryption
key where a private key is sealed or opened; it flushes with its audit event and never
commits. The database decides races: the partial unique index ``uq_signing_key_active`` admits
one active key, so of two servers making one at the same moment one wins and the other is
told (``ensure`` simply takes the winner's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import and_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.audit.tags import EventTag
from registry.catalog.models import Batch
from registry.clock import utcnow
from registry.printing.models import PrintJob
from registry.signing import sealed
from registry.signing.kek import Kek, KekError
from registry.signing.keydir import KeyDir
from registry.signing.models import LabelSignature, SigningKey
from registry.signing.signer import ALGORITHM, KeyStatus, KeyStoreError, Signer, _b64, key_id_for

OBJECT = "signing_key"


class KeyConflict(KeyStoreError):
    """Another server changed the keys at the same moment, or the change contradicts them."""


class KeyRevoked(KeyStoreError):
    """The key about to sign was revoked (on another server, a moment ago)."""


def status_of(row: SigningKey) -> KeyStatus:
    if row.revoked_at is not None:
        return KeyStatus.REVOKED
    if row.retired_at is not None:
        return KeyStatus.RETIRED
    return KeyStatus.ACTIVE


def signer_of(row: SigningKey, kek: Kek) -> Signer:
    """The row's private key, opened under the KEK and checked against its key id."""
    if row.private_key is None:
        raise KeyStoreError(f"key {row.kid} has no private half (revoked)")
    try:
        seed = kek.unwrap(row.kid, row.private_key, row.kek_id)
    except KekError as exc:
        raise KeyStoreError(str(exc)) from None
    key = Ed25519PrivateKey.from_private_bytes(seed)
    if key_id_for(_raw_public(key)) != row.kid:
        raise KeyStoreError(f"the stored private key of {row.kid} belongs to another key")
    return Signer(row.kid, key)


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def _sealed_row(key: Ed25519PrivateKey, kek: Kek, **times: Any) -> SigningKey:
    raw = _raw_public(key)
    kid = key_id_for(raw)
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    return SigningKey(kid=kid, alg=ALGORITHM, public_key=_b64(raw), private_key=kek.wrap(kid, seed),
                      kek_id=kek.id, **times)


def _facts(row: SigningKey) -> dict[str, Any]:
    """What an audit event says about a key: never anything of its private half."""
    return {"kid": row.kid, "alg": row.alg, "public_key": row.public_key,
            "status": str(status_of(row)), "kek_id": row.kek_id,
            "revoked_from": row.revoked_from.isoformat() if row.revoked_from else None,
            "reason": row.revocation_reason}


def get(session: Session, kid: str) -> SigningKey:
    row = session.get(SigningKey, kid)
    if row is None:
        raise KeyStoreError(f"no key {kid!r} in the registry")
    return row


def active(session: Session) -> SigningKey | None:
    return session.exec(select(SigningKey).where(
        col(SigningKey.retired_at).is_(None), col(SigningKey.revoked_at).is_(None))).first()


def all_keys(session: Session) -> list[SigningKey]:
    return list(session.exec(select(SigningKey).order_by(col(SigningKey.created_at))).all())


def _insert_active(session: Session, row: SigningKey) -> None:
    """Flush the new active key in a savepoint: the partial unique index refuses a second
    active key made at the same moment elsewhere, and nothing of this one stays behind."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise KeyConflict("another server made an active signing key at the same moment; "
                          "run the command again") from None


def _require_same_kek(session: Session, kek: Kek) -> None:
    """A server configured with another KEK must not seal a new key only it can open: every
    other server would then fail to sign. Every sealed secret counts (``sealed``), not only
    the label keys."""
    try:
        sealed.require_same_kek(session, kek)
    except KekError as exc:
        raise KeyStoreError(str(exc)) from None


def _new_active(session: Session, actor: Any, kek: Kek, action: EventTag.Key,
                before: dict[str, Any] | None = None) -> SigningKey:
    _require_same_kek(session, kek)
    row = _sealed_row(Ed25519PrivateKey.generate(), kek, created_at=utcnow())
    _insert_active(session, row)
    audit.record(session, actor=actor, action=action, object_type=OBJECT, object_id=row.kid,
                 before=before, after=_facts(row))
    return row


def create(session: Session, actor: Any, kek: Kek) -> SigningKey:
    """The first active key; refused when one exists (``rotate`` replaces it)."""
    current = active(session)
    if current is not None:
        raise KeyConflict(f"an active key exists already ({current.kid}); use rotate")
    return _new_active(session, actor, kek, EventTag.Key.CREATE)


def ensure(session: Session, actor: Any, kek: Kek) -> tuple[SigningKey, bool]:
    """The active key, made when there is none: (key, made here). Of two servers ensuring
    at once, one makes the key and the other returns it."""
    current = active(session)
    if current is not None:
        return current, False
    try:
        return create(session, actor, kek), True
    except KeyConflict:
        winner = active(session)
        if winner is None:
            raise
        return winner, False


def _retire(session: Session, row: SigningKey, now: dt.datetime) -> None:
    """Retire ``row`` if it is still the active key; a rotation or revocation that another
    server committed first makes this one fail instead of forking the key history."""
    result = session.exec(
        update(SigningKey)
        .where(and_(col(SigningKey.kid) == row.kid, col(SigningKey.retired_at).is_(None),
                    col(SigningKey.revoked_at).is_(None)))
        .values(retired_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise KeyConflict("the active key changed at the same moment; run the command again")
    session.refresh(row)


def rotate(session: Session, actor: Any, kek: Kek) -> SigningKey:
    """A new active key; the previous one retires and its labels stay valid."""
    _require_same_kek(session, kek)
    previous = active(session)
    before = None
    if previous is not None:
        before = _facts(previous)
        _retire(session, previous, utcnow())
    return _new_active(session, actor, kek, EventTag.Key.ROTATE, before)


def revoke(session: Session, actor: Any, kid: str, *, kek: Kek | None,
           effective: dt.datetime | None = None, reason: str | None = None,
           with_successor: bool = False) -> SigningKey | None:
    """Revoke a leaked key from ``effective`` (default now): labels the registry signed
    under it before then keep verifying, any other label claiming it does not. The private
    half is deleted, so the key never signs again. The active key is revoked only together
    with making its successor (returned), so the registry never stands without a signing key.

    Revoking a revoked key again may move its effective time earlier (more is learnt about a
    leak), never later."""
    row = get(session, kid)
    now = utcnow()
    effective = (effective or now).astimezone(dt.UTC)
    if effective > now + dt.timedelta(seconds=1):
        raise KeyStoreError(f"the effective time {effective.isoformat()} is in the future: a "
                            f"revocation takes effect now or from a past moment")
    reason = (reason or "").strip()[:500] or None
    before = _facts(row)
    if row.revoked_at is not None:
        current = row.revoked_from or row.revoked_at
        assert current is not None
        if effective >= current:
            return None
        row.revoked_from = effective
        row.revocation_reason = reason or row.revocation_reason
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action=EventTag.Key.REVOKE, object_type=OBJECT,
                     object_id=kid, before=before, after=_facts(row))
        return None
    successor = None
    if status_of(row) is KeyStatus.ACTIVE:
        if not with_successor:
            raise KeyConflict(
                f"{kid} is the only active signing key: revoking it alone would stop all "
                f"label printing. Make its successor in the same step: "
                f"keys revoke {kid} --with-successor")
        if kek is None:
            raise KeyStoreError("making the successor needs the key-encryption key")
        _retire(session, row, now)
    row.revoked_at = now
    row.revoked_from = effective
    row.retired_at = row.retired_at or now
    row.revocation_reason = reason
    row.private_key = None
    row.kek_id = None
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Key.REVOKE,
                 object_type=OBJECT, object_id=kid,
                 before=before, after=_facts(row))
    if before["status"] == KeyStatus.ACTIVE:
        assert kek is not None
        successor = _new_active(session, actor, kek, EventTag.Key.ROTATE, before)
    return successor


# ---------------------------------------------------------------- which key signed what


def record_signature(session: Session, job_id: int, kid: str) -> None:
    """Note that ``kid`` signs job ``job_id``'s labels now, unless it did before (the first
    time is what a revocation's effective time is compared with). Refused when the key was
    revoked meanwhile (on any server), so no label of a revoked key leaves the registry."""
    row = session.get(SigningKey, kid, populate_existing=True)
    if row is None or row.revoked_at is not None or row.private_key is None:
        raise KeyRevoked(f"key {kid} was revoked a moment ago")
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Two downloads of one job at the same moment: the primary key keeps the first.
    session.execute(insert(LabelSignature).values(job_id=job_id, kid=kid,
                                                  first_signed_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["job_id", "kid"]))


def signed_ranges(session: Session, kid: str) -> list[dict[str, Any]]:
    """The labels the registry signed under a revoked key before its effective time, as
    {gtin, lot, serial_first, serial_last} ranges (what offline verifiers are told)."""
    rows = session.exec(
        select(Batch.gtin, Batch.lot_code, PrintJob.serial_first, PrintJob.serial_last)
        .select_from(LabelSignature)
        .join(PrintJob, col(PrintJob.id) == col(LabelSignature.job_id))
        .join(Batch, col(Batch.id) == col(PrintJob.batch_id))
        .join(SigningKey, col(SigningKey.kid) == col(LabelSignature.kid))
        .where(col(LabelSignature.kid) == kid,
               col(LabelSignature.first_signed_at) < col(SigningKey.revoked_from))
        .order_by(col(Batch.gtin), col(Batch.lot_code), col(PrintJob.serial_first))
    ).all()
    return [{"gtin": gtin, "lot": lot, "serial_first": first, "serial_last": last}
            for gtin, lot, first, last in rows]


# ---------------------------------------------------------------- the legacy KEY_DIR


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    signatures: int = 0


def _legacy_time(text: Any) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise KeyStoreError(f"keys.json holds a time that is not ISO 8601: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def import_dir(session: Session, actor: Any, directory: Path, *, passphrase: str | None,
               kek: Kek) -> ImportReport:
    """Bring a legacy ``KEY_DIR`` (keys.json and key-*.pem) into the database: statuses and
    times kept, private keys sealed under the KEK (revoked keys without their private half).
    Keys already in the database are left as they are, so a second run imports nothing.

    Which key signed which print job is taken from the audit log (every download and reprint
    is an event, and the folder says when each key was active), so a later revocation with an
    effective time keeps the labels printed before the migration valid too."""
    legacy = KeyDir(directory, passphrase)
    if not (directory / "keys.json").is_file():
        raise KeyStoreError(f"{directory} holds no keys.json: not a signing key folder")
    entries = legacy.public_keys()
    legacy_active = [e["kid"] for e in entries if e["status"] == KeyStatus.ACTIVE]
    current = active(session)
    if current is not None and legacy_active and legacy_active[0] != current.kid \
            and session.get(SigningKey, legacy_active[0]) is None:
        raise KeyConflict(
            f"the database already has the active key {current.kid}, and the folder's active "
            f"key is {legacy_active[0]}: importing would make two active keys. Import into a "
            f"registry without keys, or retire the folder's key first")
    report = ImportReport()
    fresh: list[SigningKey] = []
    # The active key last, after its predecessors: at no moment two active rows.
    for entry in sorted(entries, key=lambda e: e["status"] == KeyStatus.ACTIVE):
        kid = entry["kid"]
        if session.get(SigningKey, kid) is not None:
            report.present.append(kid)
            continue
        created = _legacy_time(entry.get("created")) or utcnow()
        retired = _legacy_time(entry.get("retired_at"))
        revoked = _legacy_time(entry.get("revoked_at"))
        times: dict[str, Any] = {"created_at": created, "retired_at": retired or revoked,
                 "revoked_at": revoked, "revoked_from": revoked}
        if revoked is not None:
            row = SigningKey(kid=kid, alg=entry.get("alg", ALGORITHM),
                             public_key=entry["public_key"], **times)
        else:
            row = _sealed_row(legacy.load_private(kid), kek, **times)
        if row.kid != kid or row.public_key != entry["public_key"]:
            raise KeyStoreError(f"the folder's key file for {kid} holds another key")
        if status_of(row) is KeyStatus.ACTIVE:
            _insert_active(session, row)
        else:
            session.add(row)
            session.flush()
        audit.record(session, actor=actor, action=EventTag.Key.IMPORT, object_type=OBJECT,
                     object_id=kid, after={**_facts(row), "from": str(directory)})
        report.imported.append(kid)
        fresh.append(row)
    report.signatures = _backfill_signatures(session, [r for r in fresh if r.revoked_at is None])
    return report


def _backfill_signatures(session: Session, rows: list[SigningKey]) -> int:
    """label_signature rows for the print jobs downloaded while each imported key was the
    active one, from the audit log's download and reprint events (earliest first).

    Keys revoked before the migration get none: their revocation voided all their labels,
    and a migration must not change a verdict."""
    if not rows:
        return 0
    periods = [(r.created_at, r.retired_at, r.kid) for r in rows]
    events = session.exec(
        select(AuditEvent.object_id, AuditEvent.created_at)
        .where(col(AuditEvent.action).in_((EventTag.PrintJob.DOWNLOAD,
                                            EventTag.PrintJob.REPRINT)),
               AuditEvent.object_type == "print_job")
        .order_by(col(AuditEvent.seq))
    ).all()
    seen: set[tuple[int, str]] = set()
    for object_id, at in events:
        kid = next((k for start, end, k in periods
                    if start is not None and start <= at and (end is None or at < end)), None)
        if kid is None or object_id is None or not object_id.isdigit():
            continue
        job_id = int(object_id)
        if (job_id, kid) in seen or session.get(PrintJob, job_id) is None:
            continue
        seen.add((job_id, kid))
        if session.get(LabelSignature, (job_id, kid)) is None:
            session.add(LabelSignature(job_id=job_id, kid=kid, first_signed_at=at))
    session.flush()
    return len(seen)
