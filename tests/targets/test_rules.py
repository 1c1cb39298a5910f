"""The targets' pure rules: the expected share, the verdict's thresholds, refused targets."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from registry.targets.rules import (
    Assessment,
    Metric,
    TargetSpec,
    Verdict,
    assess,
    cumulative,
    expected_share,
    is_frozen,
    month_ends,
    spec_problems,
    year_end,
)

KNOWN = {"provinces": {"51", "52", "53"}, "categories": {"agriculture", "fishery"},
         "countries": {"JP", "NL"}}


def test_expected_share_is_linear_in_the_days_of_the_year() -> None:
    assert expected_share(2026, dt.date(2025, 12, 31)) == 0
    assert expected_share(2025, dt.date(2024, 6, 30)) == 0  # long before: not negative
    assert expected_share(2026, dt.date(2026, 1, 1)) == Decimal(1) / 365
    assert expected_share(2026, dt.date(2026, 1, 2)) == Decimal(2) / 365
    assert expected_share(2026, dt.date(2026, 7, 2)) == Decimal(183) / 365
    assert expected_share(2026, dt.date(2026, 12, 31)) == 1
    assert expected_share(2026, dt.date(2027, 3, 1)) == 1
    # A leap year has 366 days.
    assert expected_share(2028, dt.date(2028, 12, 30)) == Decimal(365) / 366


@pytest.mark.parametrize(("achieved", "expected", "verdict"), [
    ("55", "0.5", Verdict.AHEAD),  # pace 1.10: ahead from there
    ("54.9", "0.5", Verdict.ON_TRACK),
    ("45", "0.5", Verdict.ON_TRACK),  # pace 0.90: still on track
    ("44.9", "0.5", Verdict.BEHIND),
    ("0", "0", Verdict.ON_TRACK),  # nothing expected, nothing done
    ("1", "0", Verdict.AHEAD),
    ("100", "1", Verdict.ON_TRACK),
    ("89", "1", Verdict.BEHIND),
    ("90", "0.5", Verdict.AHEAD),  # pace 1.8
    ("0", "0.5", Verdict.BEHIND),
])
def test_verdict_thresholds(achieved: str, expected: str, verdict: Verdict) -> None:
    result = assess(Decimal(achieved), Decimal(100), Decimal(expected))
    assert result.verdict is verdict
    assert result.share == Decimal(achieved) / 100


def test_the_share_is_of_a_positive_amount() -> None:
    assert assess(Decimal(3), Decimal(1), Decimal("0.5")) == Assessment(
        Decimal(3), Decimal("0.5"), Verdict.AHEAD)
    for amount in ("0", "-1"):
        with pytest.raises(ValueError, match="positive"):
            assess(Decimal(1), Decimal(amount), Decimal("0.5"))


def test_a_year_freezes_when_it_ends_in_wita() -> None:
    assert not is_frozen(2026, dt.date(2026, 12, 31))
    assert is_frozen(2026, dt.date(2027, 1, 1))
    assert not is_frozen(2027, dt.date(2026, 12, 31))  # next year's plan, set in advance
    assert year_end(2026) == dt.date(2026, 12, 31)


def test_month_ends() -> None:
    ends = month_ends(2028)
    assert ends[0] == dt.date(2028, 1, 31) and ends[1] == dt.date(2028, 2, 29)
    assert ends[11] == dt.date(2028, 12, 31)
    assert month_ends(2027) == [dt.date(2027, m, d) for m, d in (
        (1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30),
        (10, 31), (11, 30), (12, 31))]


def test_cumulative_sums() -> None:
    assert cumulative([Decimal(1), Decimal("2.5"), Decimal(0), Decimal(3)]) == [
        Decimal(1), Decimal("3.5"), Decimal("3.5"), Decimal("6.5")]
    assert cumulative([]) == []


@pytest.mark.parametrize("value", [TargetSpec(2026, "52", Metric.BATCHES),
                                   Assessment(Decimal(1), Decimal(1), Verdict.ON_TRACK)])
def test_specs_and_assessments_are_values(value: TargetSpec | Assessment) -> None:
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, getattr(value, field))
    assert {value, dataclasses.replace(value)} == {value}


def _problems(metric: Metric, amount: str = "100", **dims: str | None) -> dict[str, str]:
    spec = TargetSpec(year=int(dims.pop("year", None) or 2026), province=dims.pop("province", "52"),
                      metric=metric, **dims)  # type: ignore[arg-type]
    return spec_problems(spec, Decimal(amount), **KNOWN)


def test_targets_the_registry_can_measure_pass() -> None:
    assert _problems(Metric.VALUE, "2000000000") == {}
    assert _problems(Metric.VALUE, "5", province=None, destination="JP") == {}
    assert _problems(Metric.VOLUME, "2.5", category="fishery", unit="kg") == {}
    assert _problems(Metric.VOLUME, "12000", hs_chapter="09", unit="kg") == {}
    assert _problems(Metric.ACTIVE_EXPORTERS, "40") == {}
    # The bounds themselves.
    assert _problems(Metric.BATCHES, "1", year="2020") == {}
    assert _problems(Metric.BATCHES, "1", year="2100") == {}
    assert _problems(Metric.VALUE, str(10 ** 18 - 1)) == {}
    assert _problems(Metric.VOLUME, "1.125", hs_chapter="01", unit="kg") == {}
    assert _problems(Metric.VOLUME, "1", hs_chapter="97", unit="kg") == {}


@pytest.mark.parametrize(("metric", "amount", "dims", "problems"), [
    (Metric.VALUE, "0", {}, {"amount": "out_of_range"}),
    (Metric.VALUE, "-5", {}, {"amount": "out_of_range"}),
    (Metric.VALUE, "1e30", {}, {"amount": "out_of_range"}),
    (Metric.BATCHES, "2.5", {}, {"amount": "whole_number"}),
    (Metric.BATCHES, "1.5", {}, {"amount": "whole_number"}),  # rounds up to 2
    (Metric.VALUE, "1.5", {}, {"amount": "whole_number"}),
    (Metric.VALUE, str(10 ** 18), {}, {"amount": "out_of_range"}),
    (Metric.VOLUME, "2.0001", {"category": "fishery", "unit": "kg"}, {"amount": "too_precise"}),
    (Metric.VOLUME, "10", {}, {"category": "volume_needs_commodity",
                               "unit": "volume_needs_unit"}),
    (Metric.VALUE, "10", {"unit": "kg"}, {"unit": "only_for_volume"}),
    (Metric.VALUE, "10", {"category": "fishery", "hs_chapter": "03"},
     {"hs_chapter": "category_or_chapter"}),
    (Metric.VALUE, "10", {"hs_chapter": "9"}, {"hs_chapter": "bad_hs_chapter"}),
    (Metric.VALUE, "10", {"hs_chapter": "99"}, {"hs_chapter": "bad_hs_chapter"}),
    (Metric.VALUE, "10", {"hs_chapter": "00"}, {"hs_chapter": "bad_hs_chapter"}),
    (Metric.VALUE, "10", {"hs_chapter": "011"}, {"hs_chapter": "bad_hs_chapter"}),
    (Metric.ACTIVE_EXPORTERS, "10", {"category": "fishery"},
     {"category": "exporters_not_per_commodity"}),
    (Metric.VALUE, "10", {"province": "54"}, {"province": "unknown"}),
    (Metric.VALUE, "10", {"destination": "XX"}, {"destination": "unknown"}),
    (Metric.VALUE, "10", {"year": "2019"}, {"year": "out_of_range"}),
    (Metric.VALUE, "10", {"year": "2101"}, {"year": "out_of_range"}),
])
def test_targets_the_registry_cannot_measure_are_refused(
        metric: Metric, amount: str, dims: dict[str, str], problems: dict[str, str]) -> None:
    assert _problems(metric, amount, **dims) == problems


def test_a_key_per_target() -> None:
    a = TargetSpec(2026, "52", Metric.VOLUME, category="fishery", unit="kg")
    assert a.key() == "2026|52|export_volume|fishery||kg|"
    assert TargetSpec(2026, None, Metric.VALUE).key() == "2026|all|value_idr||||"
