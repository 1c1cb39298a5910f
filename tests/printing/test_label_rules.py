"""The pure rules behind the label bound (issue 11 §4): net content and the arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from registry.printing.rules import (
    NetContent,
    allowance_problems,
    default_net,
    job_problems,
    label_bound,
    net_problem,
    parse_net_quantity,
    plain,
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
