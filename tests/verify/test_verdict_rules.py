"""The verdict a buyer sees (registry/verify/rules.py), from the facts alone: every branch, the
order between them, and the copy thresholds at their boundaries. No app, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from registry.catalog.certification import Display
from registry.verify.rules import Facts, ScanStats, Signal, Thresholds, Verdict, decide

DEFAULTS = Thresholds()
QUIET = ScanStats(total=3, distinct_clients=2, in_window=1)
# Scanned like a copied label: far past both thresholds.
COPIED = ScanStats(total=500, distinct_clients=40, in_window=90)


def certified(**changes: object) -> Facts:
    """A genuine label of a certified, printed batch, scanned by a handful of people."""
    facts = Facts(signature="valid", batch_found=True, printed=True, status=Display.APPROVED,
                  stats=QUIET)
    return dataclasses.replace(facts, **changes)


def test_a_certified_label_is_genuine() -> None:
    assert decide(certified(), DEFAULTS) == (Verdict.GENUINE, [])


def test_the_signature_is_compared_by_value() -> None:
    # The status arrives as text (``VerifyStatus.value``); any string equal to it will do.
    valid = "".join(["val", "id"])
    assert decide(certified(signature=valid), DEFAULTS) == (Verdict.GENUINE, [])


def test_default_thresholds() -> None:
    # The same numbers as the COPY_* settings' defaults (registry/config.py).
    assert Thresholds(distinct_clients=6, window=dt.timedelta(minutes=60),
                      scans_in_window=20) == DEFAULTS


def test_thresholds_and_facts_cannot_be_changed_once_made() -> None:
    # One Thresholds serves every request of a server (registry/verify/hotpath.py).
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.distinct_clients = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        QUIET.in_window = 100  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        certified().printed = False  # type: ignore[misc]


def test_facts_default_to_no_scans_and_no_specimen() -> None:
    facts = Facts(signature="valid", batch_found=True, printed=True, status=Display.APPROVED)
    assert facts.stats == ScanStats(0, 0, 0) and facts.specimen is False
    assert decide(facts, DEFAULTS) == (Verdict.GENUINE, [])


@pytest.mark.parametrize(("signature", "signal"), [
    ("invalid", Signal.BAD_SIGNATURE),
    ("unknown_key", Signal.UNKNOWN_KEY),
    ("revoked_key", Signal.REVOKED_KEY),
    ("something new", Signal.BAD_SIGNATURE),
    ("wrong", Signal.BAD_SIGNATURE),
    ("", Signal.BAD_SIGNATURE),
])
def test_a_bad_signature_is_not_genuine_whatever_the_batch(signature: str,
                                                           signal: Signal) -> None:
    for status in (Display.APPROVED, Display.REVOKED, None):
        facts = certified(signature=signature, status=status, stats=COPIED)
        assert decide(facts, DEFAULTS) == (Verdict.NOT_GENUINE, [signal])


def test_a_specimen_is_a_proof_before_anything_else() -> None:
    for facts in (certified(specimen=True), certified(specimen=True, signature="invalid"),
                  certified(specimen=True, batch_found=False, printed=False, status=None),
                  certified(specimen=True, status=Display.REVOKED, stats=COPIED)):
        assert decide(facts, DEFAULTS) == (Verdict.SPECIMEN, [Signal.SPECIMEN])


@pytest.mark.parametrize("facts", [
    certified(batch_found=False),
    certified(status=None),
    certified(batch_found=False, status=None, printed=False),
])
def test_an_unknown_code_is_not_genuine(facts: Facts) -> None:
    assert decide(facts, DEFAULTS) == (Verdict.NOT_GENUINE, [Signal.UNKNOWN_CODE])


@pytest.mark.parametrize("status", list(Display))
def test_a_serial_never_printed_is_not_genuine_whatever_the_batch(status: Display) -> None:
    facts = certified(printed=False, status=status, stats=COPIED)
    assert decide(facts, DEFAULTS) == (Verdict.NOT_GENUINE, [Signal.NEVER_PRINTED])


@pytest.mark.parametrize(("status", "verdict", "signal"), [
    (Display.REVOKED, Verdict.REVOKED, Signal.BATCH_REVOKED),
    (Display.SUSPENDED, Verdict.SUSPENDED, Signal.BATCH_SUSPENDED),
    (Display.EXPIRED, Verdict.EXPIRED, Signal.BATCH_EXPIRED),
])
def test_a_withdrawn_certification_outranks_copy_signals(status: Display, verdict: Verdict,
                                                         signal: Signal) -> None:
    for stats in (QUIET, COPIED):
        assert decide(certified(status=status, stats=stats), DEFAULTS) == (verdict, [signal])


@pytest.mark.parametrize("status", [Display.DRAFT, Display.SUBMITTED, Display.REJECTED])
def test_a_label_of_a_batch_never_certified_is_not_genuine(status: Display) -> None:
    for stats in (QUIET, COPIED):
        assert decide(certified(status=status, stats=stats), DEFAULTS) == (
            Verdict.NOT_GENUINE, [Signal.NOT_CERTIFIED])


@pytest.mark.parametrize(("clients", "in_window", "signals"), [
    (5, 19, []),
    (6, 19, [Signal.MANY_CLIENTS]),
    (5, 20, [Signal.TOO_FREQUENT]),
    (6, 20, [Signal.MANY_CLIENTS, Signal.TOO_FREQUENT]),
    (40, 90, [Signal.MANY_CLIENTS, Signal.TOO_FREQUENT]),
])
def test_copy_thresholds_are_reached_at_the_threshold(clients: int, in_window: int,
                                                      signals: list[Signal]) -> None:
    stats = ScanStats(total=1000, distinct_clients=clients, in_window=in_window)
    verdict = Verdict.POSSIBLE_COPY if signals else Verdict.GENUINE
    assert decide(certified(stats=stats), DEFAULTS) == (verdict, signals)


def test_the_thresholds_given_are_the_ones_used() -> None:
    strict = Thresholds(distinct_clients=2, scans_in_window=3)
    assert decide(certified(stats=ScanStats(2, 2, 1)), strict) == (
        Verdict.POSSIBLE_COPY, [Signal.MANY_CLIENTS])
    assert decide(certified(stats=ScanStats(3, 1, 3)), strict) == (
        Verdict.POSSIBLE_COPY, [Signal.TOO_FREQUENT])
    # Many scans in all, spread out, by few people: not a copy.
    assert decide(certified(stats=ScanStats(10_000, 1, 2)), strict) == (Verdict.GENUINE, [])
