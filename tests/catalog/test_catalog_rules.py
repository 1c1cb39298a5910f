"""Field rules for products and batches (registry/catalog/rules.py), without the app: each
field's problem code at its boundaries, and the evidence a batch still lacks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from registry.catalog.rules import (
    ANY_DOCUMENT,
    MAX_QUANTITY,
    MAX_VALUE_IDR,
    BatchInput,
    ProductInput,
    batch_problems,
    missing_evidence,
    normalise_gtin,
    product_problems,
)

TODAY = dt.date(2026, 5, 12)


def product(**changes: object) -> ProductInput:
    good = ProductInput(name_id="Madu Sumbawa", name_en="Sumbawa honey",
                        category="agriculture", hs_code="090111", gtin=None,
                        description="Forest honey")
    return dataclasses.replace(good, **changes)


def batch(**changes: object) -> BatchInput:
    good = BatchInput(product_id=1, lot_code="NTB-MADU-0711", quantity=Decimal("950.5"),
                      unit="kg", production_date=TODAY - dt.timedelta(days=4),
                      best_before=TODAY + dt.timedelta(days=540), origin_regency_code="52.04",
                      producer="Koperasi Madu Hutan", hub="benoa", destination_country="NL",
                      declared_value_idr=540_000_000)
    return dataclasses.replace(good, **changes)


@pytest.mark.parametrize(("typed", "gtin"), [
    ("4006381333931", "04006381333931"),
    (" 400 6381 333931 ", "04006381333931"),
    ("036000291452", "00036000291452"),
    ("96385074", "00000096385074"),
    ("12345670", "00000012345670"),
    ("08991234567891", "08991234567891"),
])
def test_a_company_gtin_becomes_fourteen_digits(typed: str, gtin: str) -> None:
    assert normalise_gtin(typed) == gtin


@pytest.mark.parametrize("typed", [
    "4006381333932",  # wrong check digit
    "400638133393",  # too short for its check digit
    "honey", "", "   ",
    "2000000000008", "0400000000008", "0200000000004",  # restricted circulation (RCN)
    "02345673", "22345677",  # RCN-8
])
def test_not_a_company_gtin(typed: str) -> None:
    assert normalise_gtin(typed) is None


def test_a_good_product_has_no_problems() -> None:
    assert product_problems(product()) == {}
    assert product_problems(product(gtin="4006381333931")) == {}
    assert product_problems(product(gtin="")) == {}


@pytest.mark.parametrize("field", ["name_id", "name_en"])
def test_product_names(field: str) -> None:
    assert product_problems(product(**{field: "  "})) == {field: "required"}
    assert product_problems(product(**{field: ""})) == {field: "required"}
    assert product_problems(product(**{field: "x" * 300})) == {}
    assert product_problems(product(**{field: "  " + "x" * 300 + "  "})) == {}
    assert product_problems(product(**{field: "x" * 301})) == {field: "too_long"}


def test_product_fields_from_the_reference_lists() -> None:
    assert product_problems(product(category="mining")) == {"category": "unknown"}
    assert product_problems(product(category="fishery")) == {}
    assert product_problems(product(hs_code="999999")) == {"hs_code": "unknown"}
    assert product_problems(product(gtin="4006381333932")) == {"gtin": "bad_gtin"}
    assert product_problems(product(gtin="2000000000008")) == {"gtin": "bad_gtin"}


def test_product_description_length() -> None:
    assert product_problems(product(description="x" * 4000)) == {}
    assert product_problems(product(description="x" * 4001)) == {"description": "too_long"}


def test_every_product_problem_at_once() -> None:
    bad = ProductInput(name_id="", name_en="x" * 301, category="?", hs_code="?", gtin="1",
                       description="x" * 4001)
    assert product_problems(bad) == {"name_id": "required", "name_en": "too_long",
                                     "category": "unknown", "hs_code": "unknown",
                                     "gtin": "bad_gtin", "description": "too_long"}


def test_a_good_batch_has_no_problems() -> None:
    assert batch_problems(batch(), TODAY) == {}


@pytest.mark.parametrize(("lot", "ok"), [
    ("L", True), ("Lot_1.a-B", True), ("A" * 20, True), ("A" * 21, False), ("", False),
    (None, False), ("LOT 1", False), ("LOT/1", False), ("LOT%31", False), ("MADÜ", False),
    ("LOT1\n", False),
])
def test_lot_codes_print_as_typed(lot: str | None, ok: bool) -> None:
    assert batch_problems(batch(lot_code=lot), TODAY) == ({} if ok else {"lot_code": "bad_lot"})


@pytest.mark.parametrize(("quantity", "ok"), [
    (Decimal("0.001"), True), (MAX_QUANTITY, True), (Decimal(0), False), (Decimal(-1), False),
    (MAX_QUANTITY + Decimal("0.001"), False),
])
def test_batch_quantity(quantity: Decimal, ok: bool) -> None:
    assert Decimal("99999999999.999") == MAX_QUANTITY
    assert batch_problems(batch(quantity=quantity), TODAY) == (
        {} if ok else {"quantity": "out_of_range"})


@pytest.mark.parametrize(("unit", "ok"), [("kg", True), ("t", True), ("l", True),
                                          ("pcs", True), ("head", True), ("g", False),
                                          ("KG", False), ("", False)])
def test_batch_units(unit: str, ok: bool) -> None:
    assert batch_problems(batch(unit=unit), TODAY) == ({} if ok else {"unit": "unknown"})


def test_dates() -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    assert batch_problems(batch(production_date=TODAY), TODAY) == {}
    assert batch_problems(batch(production_date=tomorrow, best_before=None), TODAY) == {
        "production_date": "future"}
    produced = TODAY - dt.timedelta(days=10)
    assert batch_problems(batch(production_date=produced, best_before=produced), TODAY) == {}
    assert batch_problems(batch(production_date=produced, best_before=None), TODAY) == {}
    assert batch_problems(batch(production_date=produced,
                                best_before=produced - dt.timedelta(days=1)), TODAY) == {
        "best_before": "before_production"}


def test_origin_and_hub_from_the_reference_lists() -> None:
    assert batch_problems(batch(origin_regency_code="53.09"), TODAY) == {}
    assert batch_problems(batch(origin_regency_code="31.71"), TODAY) == {
        "origin_regency_code": "unknown"}
    assert batch_problems(batch(hub="ngurah-rai"), TODAY) == {}
    assert batch_problems(batch(hub="tanjung-priok"), TODAY) == {"hub": "unknown"}


@pytest.mark.parametrize(("producer", "problem"), [
    ("K", None), ("x" * 200, None), ("  " + "x" * 200 + " ", None), ("x" * 201, "too_long"),
    ("", "required"), ("   ", "required"), (None, "required"),
])
def test_producer(producer: str | None, problem: str | None) -> None:
    assert batch_problems(batch(producer=producer), TODAY) == (
        {"producer": problem} if problem else {})


@pytest.mark.parametrize(("country", "ok"), [("NL", True), ("JP", True), ("AU", True),
                                             ("DE", True), ("CN", True), ("ID", False),
                                             ("XX", False), ("nl", False), ("", False)])
def test_exports_go_abroad(country: str, ok: bool) -> None:
    assert batch_problems(batch(destination_country=country), TODAY) == (
        {} if ok else {"destination_country": "unknown"})


def test_indonesia_is_refused_however_the_code_arrives() -> None:
    typed = "".join(["I", "D"])  # as a form gives it: a new string, not the literal "ID"
    assert batch_problems(batch(destination_country=typed), TODAY) == {
        "destination_country": "unknown"}


@pytest.mark.parametrize(("value", "ok"), [(0, True), (MAX_VALUE_IDR, True), (-1, False),
                                           (MAX_VALUE_IDR + 1, False)])
def test_declared_value(value: int, ok: bool) -> None:
    assert MAX_VALUE_IDR == 10**15
    assert batch_problems(batch(declared_value_idr=value), TODAY) == (
        {} if ok else {"declared_value_idr": "out_of_range"})


REQUIRED = {"agriculture": ["phytosanitary", "origin"], "fishery": ["health"]}


@pytest.mark.parametrize(("category", "kinds", "missing"), [
    ("agriculture", [], ["phytosanitary", "origin"]),
    ("agriculture", ["origin"], ["phytosanitary"]),
    ("agriculture", ["lab", "phytosanitary"], ["origin"]),
    ("agriculture", ["origin", "phytosanitary"], []),
    ("craft", [], [ANY_DOCUMENT]),
    ("craft", ["lab"], []),
    ("fishery", ["lab"], ["health"]),
])
def test_missing_evidence(category: str, kinds: list[str], missing: list[str]) -> None:
    assert missing_evidence(category, kinds, REQUIRED) == missing


def test_without_required_kinds_any_one_document_will_do() -> None:
    assert ANY_DOCUMENT == "any"
    assert missing_evidence("agriculture", set(), {}) == ["any"]
    assert missing_evidence("agriculture", {"halal"}, {}) == []
