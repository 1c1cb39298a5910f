"""The signing keys as one process sees them: what every scan and every label download asks.

The database is the one truth; this object keeps what it read for at most a second, so a
rotation or revocation made on any server is honoured here within about a second, while a scan
pays only a clock check between re-reads (and one small SELECT of the few key rows at most
once a second). A private key is opened under the key-encryption key once per key id and its
``Signer`` kept.

A store that cannot be read raises ``KeyStoreUnavailable``: the resolver answers 503
("verification is temporarily unavailable"), never "not genuine".
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from registry.signing import services
from registry.signing.kek import Kek, KekError
from registry.signing.models import SigningKey
from registry.signing.signer import ALGORITHM, KeyStatus, KeyStoreError, KeyStoreUnavailable, Signer
from registry.signing.verifier import Verifier

log = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class KeyRow:
    """The public facts of one key row (no private half)."""

    kid: str
    alg: str
    public_key: str
    created_at: dt.datetime
    retired_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_from: dt.datetime | None

    @property
    def status(self) -> KeyStatus:
        if self.revoked_at is not None:
            return KeyStatus.REVOKED
        if self.retired_at is not None:
            return KeyStatus.RETIRED
        return KeyStatus.ACTIVE

    def published(self) -> dict[str, Any]:
        """The key as registry-keys.json lists it (the fields offline verifiers know, then
        ``revoked_from``)."""
        return {"kid": self.kid, "alg": self.alg, "public_key": self.public_key,
                "created": _stamp(self.created_at), "retired_at": _stamp(self.retired_at),
                "revoked_at": _stamp(self.revoked_at), "status": str(self.status),
                "revoked_from": _stamp(self.revoked_from)}


def _stamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    # Whole seconds as before; a time with a fraction keeps it, since an effective time cut
    # to the second would misplace labels signed within that second.
    value = value.astimezone(dt.UTC)
    spec = "seconds" if value.microsecond == 0 else "microseconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


_COLUMNS = (col(SigningKey.kid), col(SigningKey.alg), col(SigningKey.public_key),
            col(SigningKey.created_at), col(SigningKey.retired_at), col(SigningKey.revoked_at),
            col(SigningKey.revoked_from))


class KeyStore:
    """The database's signing keys for one process (one per app: ``store_for(app)``)."""

    def __init__(self, engine: Engine, kek_loader: Callable[[], Kek]) -> None:
        self.engine = engine
        self._kek_loader = kek_loader
        self._kek: Kek | None = None
        self._lock = threading.Lock()
        self._rows: tuple[KeyRow, ...] | None = None
        self._verifier: Verifier | None = None
        self._checked = float("-inf")
        self._error: KeyStoreUnavailable | None = None
        self._signers: dict[str, Signer] = {}

    # -- reading -----------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Read the keys again on the next use (after a change made through this process)."""
        self._checked = float("-inf")

    def rows(self) -> tuple[KeyRow, ...]:
        """The key rows, read again when the last read is more than a second old."""
        if time.monotonic() - self._checked >= RECHECK_SECONDS:
            with self._lock:
                now = time.monotonic()
                if now - self._checked >= RECHECK_SECONDS:
                    self._refresh()
                    self._checked = now
        if self._error is not None:
            # A new exception each time: re-raising one instance would grow its traceback.
            raise KeyStoreUnavailable(str(self._error))
        assert self._rows is not None
        return self._rows

    def _refresh(self) -> None:
        try:
            with self.engine.connect() as conn:
                result = conn.execute(select(*_COLUMNS).order_by(col(SigningKey.created_at)))
                rows = tuple(KeyRow(kid, alg, public, created, retired, revoked, revoked_from)
                             for kid, alg, public, created, retired, revoked, revoked_from
                             in result)
        except SQLAlchemyError as exc:
            # Logged once a second at most; the message names the kind, not connection text
            # that might carry a password.
            log.error("signing keys cannot be read from the database: %s",
                      exc.__class__.__name__)
            self._error = KeyStoreUnavailable(
                f"the signing keys cannot be read from the database "
                f"({exc.__class__.__name__})")
            return
        self._error = None
        if rows != self._rows:
            self._rows = rows
            self._verifier = Verifier([r.published() for r in rows])
            usable = {r.kid for r in rows if r.status is KeyStatus.ACTIVE}
            self._signers = {k: s for k, s in self._signers.items() if k in usable}

    def verifier(self) -> Verifier:
        """The pure verifier of every published key: a clock check on most calls."""
        self.rows()
        assert self._verifier is not None
        return self._verifier

    def public_keys(self) -> list[dict[str, Any]]:
        """The published key list; a revoked key also lists the label ranges the registry
        signed under it before its effective time (``signed_before_revocation``)."""
        published = []
        revoked = [r.kid for r in self.rows() if r.status is KeyStatus.REVOKED]
        ranges = self._with_session(
            lambda session: {kid: services.signed_ranges(session, kid) for kid in revoked}
        ) if revoked else {}
        for row in self.rows():
            entry = row.published()
            entry["signed_before_revocation"] = ranges.get(row.kid) if row.revoked_at else None
            published.append(entry)
        return published

    def jwks(self) -> dict[str, Any]:
        """RFC 7517 / RFC 8037: the keys that verify (active and retired). Revoked keys are
        left out: a plain JOSE tool cannot honour an effective time."""
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": r.public_key, "kid": r.kid,
                          "alg": "EdDSA", "use": "sig"}
                         for r in self.rows()
                         if r.status is not KeyStatus.REVOKED and r.alg == ALGORITHM]}

    # -- signing -----------------------------------------------------------------------------

    def kek(self) -> Kek:
        if self._kek is None:
            try:
                self._kek = self._kek_loader()
            except KekError as exc:
                raise KeyStoreUnavailable(str(exc)) from None
        return self._kek

    def active_kid(self) -> str | None:
        return next((r.kid for r in self.rows() if r.status is KeyStatus.ACTIVE), None)

    def active_signer(self) -> Signer:
        """The active key's signer, opened once per key id. ``KeyStoreError`` when there is
        no active key; ``KeyStoreUnavailable`` when it cannot be opened."""
        kid = self.active_kid()
        if kid is None:
            raise KeyStoreError("no active signing key in the registry (flask --app registry "
                                "keys ensure)")
        signer = self._signers.get(kid)
        if signer is None:
            kek = self.kek()

            def load(session: Session) -> Signer:
                return services.signer_of(services.get(session, kid), kek)

            try:
                signer = self._with_session(load)
            except KeyStoreUnavailable:
                raise
            except KeyStoreError as exc:
                raise KeyStoreUnavailable(str(exc)) from None
            self._signers[kid] = signer
        return signer

    def check(self, *, made_on_demand: bool = False) -> str | None:
        """Readiness: None when the keys are readable, an active key exists and opens under
        the configured KEK; else the problem, without secrets. ``made_on_demand`` (a
        development registry, which makes its first key on first use): no key yet is ready
        as long as the KEK that will seal it loads."""
        self.invalidate()
        try:
            if made_on_demand and self.active_kid() is None:
                self.kek()
                return None
            self.active_signer()
        except KeyStoreError as exc:
            return str(exc)
        return None

    # -- changing (the CLI and development; each is one committed transaction) --------------

    def _with_session(self, work: Callable[[Session], T]) -> T:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                return work(session)
        except SQLAlchemyError as exc:
            log.error("signing keys cannot be read from the database: %s", exc)
            raise KeyStoreUnavailable(f"the signing keys cannot be read from the database "
                                      f"({exc.__class__.__name__})") from None

    def _change(self, work: Callable[[Session], T]) -> T:
        def committed(session: Session) -> T:
            value = work(session)
            session.commit()
            return value

        try:
            return self._with_session(committed)
        finally:
            self.invalidate()

    def create(self, actor: Any = None) -> str:
        return self._change(lambda s: services.create(s, actor, self.kek())).kid

    def ensure(self, actor: Any = None) -> tuple[str, bool]:
        row, made = self._change(lambda s: services.ensure(s, actor, self.kek()))
        return row.kid, made

    def rotate(self, actor: Any = None) -> str:
        return self._change(lambda s: services.rotate(s, actor, self.kek())).kid

    def revoke(self, kid: str, *, actor: Any = None, effective: dt.datetime | None = None,
               reason: str | None = None, with_successor: bool = False) -> str | None:
        def work(session: Session) -> str | None:
            row = services.get(session, kid)
            kek = self.kek() if row.retired_at is None and row.revoked_at is None else None
            successor = services.revoke(session, actor, kid, kek=kek, effective=effective,
                                        reason=reason, with_successor=with_successor)
            return successor.kid if successor else None

        return self._change(work)
