"""The pure print-job rules (registry/printing/rules.py): net content per label, the label
bound's arithmetic (issue 11 §4), job fields, allowances and reprints. No app."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from registry.printing.rules import (
    DEFAULT_TOLERANCE_PERCENT,
    MAX_LABELS_PER_JOB,
    MAX_REPRINT_SHEETS,
    LabelBound,
    NetContent,
    allowance_problems,
    default_net,
    job_problems,
    label_bound,
    net_problem,
    ordered_base,
    parse_net_quantity,
    plain,
    reprint_problems,
    sheet_range_problems,
    sheet_serials,
    to_batch_unit,
)


@pytest.mark.parametrize(("text", "amount", "unit", "base"), [
    ("250 g", "250", "g", "250"), ("1 kg", "1", "kg", "1000"), ("1,5 KG", "1.5", "kg", "1500"),
    ("0.5 t", "0.5", "t", "500000"), ("500ml", "500", "ml", "500"), ("2.5 L", "2.5", "l", "2500"),
    ("12 pcs", "12", "pcs", "12"), ("1 head", "1", "head", "1"), (" 0.001 g ", "0.001", "g",
                                                                  "0.001"),
])
def test_parse_net_quantity(text: str, amount: str, unit: str, base: str) -> None:
    net = parse_net_quantity(text)
    assert net == NetContent(Decimal(amount), unit)
    assert net.base == Decimal(base)
    assert net.text == f"{amount} {unit}"


@pytest.mark.parametrize("text", ["", "lots", "1", "kg", "0 kg", "0.000 g", "1.5 pcs",
                                  "0.5 head", "1234567 kg", "1.2345 kg", "1 kg; DROP", "-1 kg",
                                  "<b>1 kg</b>", "1 lb", "1e3 g", "١ kg"])
def test_malformed_net_quantities(text: str) -> None:
    assert parse_net_quantity(text) is None
    assert net_problem(text, "kg") == (None, "bad_net_quantity")


@pytest.mark.parametrize(("batch_unit", "good", "bad"), [
    ("kg", ["1 g", "1 kg", "1 t"], ["1 l", "1 pcs", "1 head"]),
    ("t", ["1 g", "25 kg"], ["1 ml", "1 pcs"]),
    ("l", ["500 ml", "1 l"], ["1 kg", "1 pcs"]),
    ("pcs", ["1 pcs", "12 pcs"], ["1 kg", "1 head"]),
    ("head", ["1 head"], ["1 pcs", "1 kg"]),
    ("barrels", [], ["1 kg"]),
])
def test_units_comparable_with_the_batch(batch_unit: str, good: list[str],
                                         bad: list[str]) -> None:
    for text in good:
        assert net_problem(text, batch_unit)[1] is None, text
    for text in bad:
        assert net_problem(text, batch_unit) == (None, "incomparable_unit"), text


@pytest.mark.parametrize("unit", ["kg", "t", "l", "pcs", "head"])
def test_a_preview_default_fits_every_batch_unit(unit: str) -> None:
    assert net_problem(default_net(unit), unit)[1] is None


def test_job_problems() -> None:
    assert job_problems(quantity=1, net_quantity="1 kg", stock="a", stocks={"a"},
                        batch_unit="kg") == {}
    assert job_problems(quantity=0, net_quantity="1 l", stock="b", stocks={"a"},
                        batch_unit="kg") == {"quantity": "out_of_range",
                                             "net_quantity": "incomparable_unit",
                                             "stock": "unknown"}


def test_bound_arithmetic() -> None:
    bound = label_bound(certified=Decimal("1240"), batch_unit="kg",
                        tolerance_percent=Decimal(2), allowances=Decimal(0),
                        jobs=[(165, "1 kg"), (1000, "250 g"), (3, "1 l")])  # 1 l not counted
    assert bound.ordered == Decimal(415)
    assert bound.allowed == Decimal("1264.8")
    assert bound.remaining == Decimal("849.8")
    assert bound.admits(Decimal("849.8")) and not bound.admits(Decimal("849.801"))
    tonnes = label_bound(certified=Decimal("12"), batch_unit="t", tolerance_percent=Decimal(0),
                         allowances=Decimal("0.5"), jobs=[(6, "25 kg"), (1, "1 t")])
    assert tonnes.ordered == Decimal("1.15") and tonnes.allowed == Decimal("12.5")
    assert plain(tonnes.ordered) == "1.15" and plain(Decimal("1E+5")) == "100000"


def test_allowance_problems() -> None:
    assert allowance_problems(Decimal("100"), "Second harvest") == {}
    assert allowance_problems(Decimal("0"), " ") == {"amount": "out_of_range",
                                                     "reason": "required"}
    assert allowance_problems(Decimal("0.0001"), "x" * 501) == {"amount": "out_of_range",
                                                                "reason": "too_long"}
    assert allowance_problems(None, "ok") == {"amount": "out_of_range"}


@pytest.mark.parametrize(("text", "net_text", "dimension"), [
    ("1.0 pcs", "1 pcs", "pieces"), ("12.000 head", "12 head", "head"), ("250 G", "250 g", "mass"),
    ("999999.999 t", "999999.999 t", "mass"), ("0,75 l", "0.75 l", "volume"),
    ("750ml", "750 ml", "volume"),
])
def test_net_content_as_printed(text: str, net_text: str, dimension: str) -> None:
    net = parse_net_quantity(text)
    assert net is not None and net.text == net_text and net.dimension == dimension


def test_no_text_is_no_net_content() -> None:
    assert parse_net_quantity(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("0"), "0"), (Decimal("-0"), "0"), (Decimal("0.000"), "0"), (Decimal("-0.00"), "0"),
    (Decimal("1E+5"), "100000"), (Decimal("1264.80"), "1264.8"), (Decimal("0.0010"), "0.001"),
    (Decimal("-2.50"), "-2.5"), (Decimal("7"), "7"),
])
def test_plain_numbers(value: Decimal, text: str) -> None:
    assert plain(value) == text


@pytest.mark.parametrize(("unit", "text"), [("kg", "1 kg"), ("t", "1 kg"), ("g", "1 g"),
                                            ("l", "1 l"), ("ml", "1 ml"), ("pcs", "1 pcs"),
                                            ("head", "1 head")])
def test_a_preview_shows_one_unit_but_never_a_tonne_per_package(unit: str, text: str) -> None:
    assert default_net(unit) == text


@pytest.mark.parametrize(("base", "unit", "amount"), [
    (Decimal(2500), "kg", Decimal("2.5")), (Decimal(2500), "g", Decimal(2500)),
    (Decimal(1_500_000), "t", Decimal("1.5")), (Decimal(750), "l", Decimal("0.75")),
    (Decimal(12), "pcs", Decimal(12)),
])
def test_base_units_in_the_batch_unit(base: Decimal, unit: str, amount: Decimal) -> None:
    assert to_batch_unit(base, unit) == amount


@pytest.mark.parametrize(("quantity", "ok"), [(0, False), (-1, False), (1, True),
                                              (MAX_LABELS_PER_JOB, True),
                                              (MAX_LABELS_PER_JOB + 1, False)])
def test_labels_per_job(quantity: int, ok: bool) -> None:
    problems = job_problems(quantity=quantity, net_quantity="1 kg", stock="a", stocks={"a"},
                            batch_unit="kg")
    assert problems == ({} if ok else {"quantity": "out_of_range"})


def test_a_job_holds_at_most_a_hundred_thousand_labels() -> None:
    assert MAX_LABELS_PER_JOB == 100_000


def test_job_problems_name_each_field() -> None:
    assert job_problems(quantity=5, net_quantity="lots", stock="a", stocks={"a"},
                        batch_unit="kg") == {"net_quantity": "bad_net_quantity"}
    assert job_problems(quantity=5, net_quantity="1 kg", stock="b", stocks={"a", "c"},
                        batch_unit="kg") == {"stock": "unknown"}
    assert job_problems(quantity=5, net_quantity="1 kg", stock="a", stocks=set(),
                        batch_unit="kg") == {"stock": "unknown"}


def test_jobs_that_cannot_be_compared_are_left_out_of_the_sum() -> None:
    jobs = [(10, "1 kg"), (4, "250 g"), (3, "1 l"), (2, "lots"), (1, "0.5 t")]
    assert ordered_base(jobs, "kg") == Decimal(10_000 + 1_000 + 500_000)
    assert ordered_base([], "kg") == 0
    assert ordered_base([(7, "2 pcs")], "pcs") == 14


def test_the_default_tolerance_is_two_percent() -> None:
    assert DEFAULT_TOLERANCE_PERCENT == 2


def test_the_bound_adds_tolerance_and_allowances() -> None:
    bound = LabelBound(certified=Decimal(1000), unit="kg", tolerance_percent=Decimal(5),
                       allowances=Decimal(30), ordered=Decimal(600))
    assert bound.allowed == Decimal(1080)
    assert bound.remaining == Decimal(480)
    assert bound.admits(Decimal(480)) and not bound.admits(Decimal("480.001"))
    assert bound.admits(Decimal(0))


def test_nothing_remains_once_the_bound_is_passed() -> None:
    # Over-ordered before the rule existed (or before an allowance was withdrawn).
    bound = LabelBound(certified=Decimal(100), unit="kg", tolerance_percent=Decimal(0),
                       allowances=Decimal(0), ordered=Decimal(130))
    assert bound.remaining == 0
    assert not bound.admits(Decimal("0.001"))


def test_net_contents_and_bounds_cannot_be_changed_once_checked() -> None:
    net = parse_net_quantity("1 kg")
    assert net is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.unit = "t"  # type: ignore[misc]
    bound = label_bound(certified=Decimal(10), batch_unit="kg", tolerance_percent=Decimal(2),
                        allowances=Decimal(0), jobs=[])
    with pytest.raises(dataclasses.FrozenInstanceError):
        bound.ordered = Decimal(0)  # type: ignore[misc]


def test_label_bound_takes_a_float_tolerance_from_the_settings() -> None:
    bound = label_bound(certified=Decimal(200), batch_unit="l", tolerance_percent=2.5,
                        allowances=Decimal(0), jobs=[(100, "500 ml")])
    assert bound.tolerance_percent == Decimal("2.5") and bound.unit == "l"
    assert (bound.allowed, bound.ordered, bound.remaining) == (Decimal(205), Decimal(50),
                                                               Decimal(155))


@pytest.mark.parametrize(("amount", "ok"), [
    (Decimal("0.001"), True), (Decimal("99999999999.999"), True), (Decimal("1.5"), True),
    (Decimal(0), False), (Decimal(-1), False), (Decimal("100000000000"), False),
    (Decimal("1.0005"), False), (Decimal("0.0009"), False),
])
def test_allowance_amounts(amount: Decimal, ok: bool) -> None:
    assert allowance_problems(amount, "Second harvest") == ({} if ok else
                                                              {"amount": "out_of_range"})


@pytest.mark.parametrize(("reason", "problem"), [
    (None, "required"), ("", "required"), (" \n ", "required"), ("x", None),
    ("x" * 500, None), ("  " + "x" * 500 + "  ", None), ("x" * 501, "too_long"),
])
def test_a_reason_is_said_and_short(reason: str | None, problem: str | None) -> None:
    expected = {"reason": problem} if problem else {}
    assert allowance_problems(Decimal(1), reason) == expected  # type: ignore[arg-type]
    assert reprint_problems(1, 1, 1, reason) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("first", "last", "sheets", "ok"), [
    (1, 1, 1, True), (1, 5, 5, True), (5, 5, 5, True), (2, 4, 5, True),
    (0, 1, 5, False), (2, 1, 5, False), (1, 6, 5, False), (6, 6, 5, False), (1, 1, 0, False),
])
def test_sheet_ranges_lie_within_the_job(first: int, last: int, sheets: int, ok: bool) -> None:
    assert sheet_range_problems(first, last, sheets) == ({} if ok else
                                                         {"sheet_last": "bad_sheets"})


def test_a_reprint_is_at_most_two_hundred_sheets() -> None:
    assert MAX_REPRINT_SHEETS == 200
    assert reprint_problems(1, 200, 500, "jammed") == {}
    assert reprint_problems(301, 500, 500, "jammed") == {}
    assert reprint_problems(1, 201, 500, "jammed") == {"sheet_last": "too_many_sheets"}
    assert reprint_problems(1, 202, 500, "jammed") == {"sheet_last": "too_many_sheets"}
    assert reprint_problems(300, 500, 500, "jammed") == {"sheet_last": "too_many_sheets"}


def test_a_bad_range_is_reported_as_such_not_as_too_many() -> None:
    assert reprint_problems(1, 900, 500, "") == {"sheet_last": "bad_sheets",
                                                 "reason": "required"}


@pytest.mark.parametrize(("job", "per_sheet", "sheets", "serials"), [
    ((1, 21), 21, (1, 1), (1, 21)),            # one full sheet is the whole job
    ((101, 150), 21, (1, 1), (101, 121)),      # 50 labels: sheets of 21, 21 and 8
    ((101, 150), 21, (2, 2), (122, 142)),
    ((101, 150), 21, (3, 3), (143, 150)),      # the last sheet is partly empty
    ((101, 150), 21, (2, 3), (122, 150)),
    ((101, 150), 21, (1, 3), (101, 150)),
    ((1, 42), 21, (2, 2), (22, 42)),           # a full last sheet ends on the job's last serial
    ((5, 9), 1, (3, 4), (7, 8)),               # a roll: a label a "sheet"
    ((5, 9), 1, (5, 5), (9, 9)),
])
def test_a_reprint_issues_exactly_the_serials_of_its_sheets(
    job: tuple[int, int], per_sheet: int, sheets: tuple[int, int], serials: tuple[int, int],
) -> None:
    assert sheet_serials(*job, per_sheet, *sheets) == serials
