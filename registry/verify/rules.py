"""The verdict a buyer sees, from facts gathered by the service. No Flask, no database.

Order matters: a label that is not ours says so whatever the batch's state; a revoked or
suspended certification outranks copy signals (the buyer must not trust it either way); a
copy is only suspected on an otherwise genuine, certified label.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from registry.catalog.certification import Display


class Verdict(StrEnum):
    GENUINE = "genuine"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_GENUINE = "not_genuine"
    POSSIBLE_COPY = "possible_copy"
    # A proof or preview's code: signed in the specimen domain, never a label (issue 11 §3).
    SPECIMEN = "specimen"


# What "suspicious" means wherever the registry counts scans (the batch's scan figures in the
# API, the dashboard's figures and exports): the buyer was told the label is not genuine or may
# be a copy. A specimen's scan is not suspicious by itself: print shops scan the proofs they
# check, and the page tells whoever scans one that it is no label.
SUSPICIOUS = frozenset({Verdict.NOT_GENUINE, Verdict.POSSIBLE_COPY})
SUSPICIOUS_VALUES = tuple(sorted(v.value for v in SUSPICIOUS))  # for SQL ``IN``


class Signal(StrEnum):
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"
    UNKNOWN_CODE = "unknown_code"
    NEVER_PRINTED = "never_printed"
    MANY_CLIENTS = "many_clients"
    TOO_FREQUENT = "too_frequent"
    BATCH_SUSPENDED = "batch_suspended"
    BATCH_REVOKED = "batch_revoked"
    BATCH_EXPIRED = "batch_expired"
    NOT_CERTIFIED = "not_certified"
    SPECIMEN = "specimen"


@dataclass(frozen=True)
class Thresholds:
    """When a genuine serial looks copied. One package is scanned by a handful of people
    (packer, importer, shop, buyer) over weeks; a copied label is scanned by many."""

    distinct_clients: int = 6  # distinct clients that scanned one serial in one day
    window: dt.timedelta = dt.timedelta(hours=1)
    scans_in_window: int = 20  # scans of one serial within ``window``


@dataclass(frozen=True)
class ScanStats:
    total: int = 0
    distinct_clients: int = 0
    in_window: int = 0


@dataclass(frozen=True)
class Facts:
    signature: str  # VerifyStatus value: valid / invalid / unknown_key / revoked_key
    batch_found: bool
    printed: bool
    status: Display | None
    stats: ScanStats = field(default_factory=ScanStats)
    specimen: bool = False  # a registry key signed it in the specimen domain (a proof)


def decide(facts: Facts, thresholds: Thresholds) -> tuple[Verdict, list[Signal]]:
    if facts.specimen:
        return Verdict.SPECIMEN, [Signal.SPECIMEN]
    if facts.signature != "valid":
        signal = {
            "unknown_key": Signal.UNKNOWN_KEY,
            "revoked_key": Signal.REVOKED_KEY,
        }.get(facts.signature, Signal.BAD_SIGNATURE)
        return Verdict.NOT_GENUINE, [signal]
    if not facts.batch_found or facts.status is None:
        return Verdict.NOT_GENUINE, [Signal.UNKNOWN_CODE]
    if not facts.printed:
        return Verdict.NOT_GENUINE, [Signal.NEVER_PRINTED]
    if facts.status is Display.REVOKED:
        return Verdict.REVOKED, [Signal.BATCH_REVOKED]
    if facts.status is Display.SUSPENDED:
        return Verdict.SUSPENDED, [Signal.BATCH_SUSPENDED]
    if facts.status is Display.EXPIRED:
        return Verdict.EXPIRED, [Signal.BATCH_EXPIRED]
    if facts.status is not Display.APPROVED:
        # A label of a batch that was never certified cannot have been printed legitimately.
        return Verdict.NOT_GENUINE, [Signal.NOT_CERTIFIED]
    signals = []
    if facts.stats.distinct_clients >= thresholds.distinct_clients:
        signals.append(Signal.MANY_CLIENTS)
    if facts.stats.in_window >= thresholds.scans_in_window:
        signals.append(Signal.TOO_FREQUENT)
    if signals:
        return Verdict.POSSIBLE_COPY, signals
    return Verdict.GENUINE, []
