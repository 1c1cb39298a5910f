"""Every secret the registry keeps sealed under the key-encryption key, in one place: the
private halves of the label signing keys (``signing_key.private_key``), the users' TOTP seeds
(``second_factor.secret``) and the audit checkpoint key (``audit_key.private_key``). Each row
names the KEK that sealed it (``kek_id``): that is how a server configured with another KEK is
refused (``require_same_kek``) and what ``rekey`` moves to the new KEK.

A new sealed column belongs in ``kek_ids`` and ``rekey`` below (tests/signing/test_rekey.py
checks that every table with a ``kek_id`` column is listed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text, update
from sqlmodel import Session, col, select

from registry.accounts.models import SecondFactor
from registry.accounts.second_factor import secret_context
from registry.audit import services as audit
from registry.audit.models import AuditHead
from registry.audit.tags import EventTag, ObjectType
from registry.checkpoints.models import AuditKey, sealing_context
from registry.signing.kek import Kek, KekError
from registry.signing.models import SigningKey

# The tables whose rows carry a sealed secret and the KEK's id that sealed it.
SEALED_TABLES: tuple[str, ...] = ("signing_key", "second_factor", "audit_key")


def kek_ids(session: Session) -> set[str]:
    """The ids of the KEKs the stored secrets are sealed under (normally one)."""
    found: set[str] = set()
    for column in (SigningKey.kek_id, SecondFactor.kek_id, AuditKey.kek_id):
        found |= {kek_id for kek_id in session.exec(
            select(column).where(col(column).is_not(None)).distinct()).all() if kek_id}
    return found


def require_same_kek(session: Session, kek: Kek) -> None:
    """A server configured with another KEK must not seal a secret only it can open: every
    other server would then fail to use it."""
    other = sorted(kek_ids(session) - kek.ids)
    if other:
        raise KekError(
            f"the configured KEY_ENCRYPTION_KEY ({kek.id}) is not the one the registry's keys "
            f"are sealed with ({', '.join(other)}): configure the same key-encryption key on "
            f"every server (during a replacement, the other one as "
            f"KEY_ENCRYPTION_KEY_FALLBACK)")


@dataclass(frozen=True)
class RekeyReport:
    old: str
    new: str
    signing_keys: int
    second_factors: int
    audit_keys: int

    def facts(self) -> dict[str, Any]:
        return {"kek_id": self.new, "signing_keys": self.signing_keys,
                "second_factors": self.second_factors, "audit_keys": self.audit_keys}


def _lock(session: Session) -> None:
    """No secret is sealed or re-sealed elsewhere while this runs: a seed enrolled under the old
    KEK after the rows were read would stay behind, unreadable after the switch. PostgreSQL:
    the sealed tables are locked against writes (reads, hence verification and signing, go on).
    SQLite: the database's write lock is taken before the first read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE " + ", ".join(SEALED_TABLES) + " IN EXCLUSIVE MODE"))
    else:
        session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                        .values(seq=AuditHead.seq))


def rekey(session: Session, actor: Any, old: Kek, new: Kek) -> RekeyReport:
    """Re-seal every sealed secret that ``old`` (the configured KEK, with its fallback) opens
    under ``new``, with one audit event; flushes, never commits. ``new`` may be the configured
    KEK itself when it has a fallback: then what is still under the fallback moves to it (the
    third step of a replacement across servers). A secret that does not open under ``old``
    (damaged, or sealed under a third KEK) raises ``KekError`` before anything is committed,
    so the caller's rollback leaves every secret where it was."""
    new = new.sealing()
    if new.id == old.id and old.fallback is None:
        raise KekError(f"the new key-encryption key is the configured one ({old.id}): "
                       f"nothing to re-seal")
    _lock(session)
    previous = sorted(kek_ids(session) - {new.id})
    if new.id == old.id and not previous:
        raise KekError(f"every secret is sealed under the key-encryption key {new.id} "
                       f"already: nothing to re-seal")
    signing = factors = audit_keys = 0
    # A secret already under the new KEK (sealed by a server that has it) stays as it is.
    for key in session.exec(select(SigningKey).where(col(SigningKey.private_key).is_not(None))):
        assert key.private_key is not None
        if key.kek_id == new.id:
            continue
        seed = old.unwrap(key.kid, key.private_key, key.kek_id)
        key.private_key, key.kek_id = new.wrap(key.kid, seed), new.id
        session.add(key)
        signing += 1
    for factor in session.exec(select(SecondFactor)):
        if factor.kek_id == new.id:
            continue
        context = secret_context(factor.user_id)
        seed = old.open(context, factor.secret, factor.kek_id)
        factor.secret, factor.kek_id = new.seal(context, seed), new.id
        session.add(factor)
        factors += 1
    for row in session.exec(select(AuditKey)):
        if row.kek_id == new.id:
            continue
        context = sealing_context(row.name)
        seed = old.open(context, row.private_key, row.kek_id)
        row.private_key, row.kek_id = new.seal(context, seed), new.id
        session.add(row)
        audit_keys += 1
    session.flush()
    left = kek_ids(session) - {new.id}
    if left:  # cannot happen under the lock; a refusal is cheaper than a secret left behind
        raise KekError(f"secrets under {', '.join(sorted(left))} remain: run the command again")
    report = RekeyReport(", ".join(previous) or old.id, new.id, signing, factors, audit_keys)
    audit.record(session, actor=actor, action=EventTag.Key.REKEY,
                 object_type=ObjectType.REGISTRY, object_id=new.id,
                 before={"kek_id": report.old}, after=report.facts())
    return report
