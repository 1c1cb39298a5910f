"""The shipment rules alone (registry/shipments/rules.py): no app, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from registry.shipments.rules import (
    LETTER_VALUES,
    Destination,
    ShipmentInput,
    ShipmentStatus,
    container_ok,
    fits,
    iso6346_check_digit,
    may_decide,
    may_decide_passage,
    normal_awb,
    remaining,
    shipment_problems,
)

TODAY = dt.date(2026, 12, 3)
MODES = {"benoa": "sea", "ngurah-rai": "air"}
PLACES = {"NLRTM": Destination("NL", port=True, airport=True),
          "NLAMS": Destination("NL", port=False, airport=True),
          "JPYOK": Destination("JP", port=True, airport=False)}


def sea(**overrides: Any) -> ShipmentInput:
    values: dict[str, Any] = {
        "hub": "benoa", "planned_date": TODAY + dt.timedelta(days=5), "peb_number": "012345",
        "peb_date": TODAY, "transport_document": "MAEU123456789",
        "containers": ("CSQU3054383",), "destination_locode": "NLRTM",
        "quantity": Decimal("100")}
    values.update(overrides)
    return ShipmentInput(**values)


def problems(data: ShipmentInput, country: str = "NL",
             modes: dict[str, str] = MODES) -> dict[str, str]:
    return shipment_problems(data, today=TODAY, hub_modes=modes, destination_country=country,
                             locodes=PLACES)


def typed(text: str) -> str:
    """``text`` as read from a file, the database or a form: equal to the constant the code
    compares it with, but another object (so ``is`` in place of ``==`` would fail)."""
    return "".join(list(text))


def container(serial: int) -> str:
    first_ten = f"CSQU{serial:06d}"
    return f"{first_ten}{iso6346_check_digit(first_ten)}"


def test_letter_values_skip_multiples_of_eleven() -> None:
    assert LETTER_VALUES["A"] == 10 and LETTER_VALUES["B"] == 12
    assert LETTER_VALUES["K"] == 21 and LETTER_VALUES["L"] == 23
    assert LETTER_VALUES["U"] == 32 and LETTER_VALUES["V"] == 34 and LETTER_VALUES["Z"] == 38
    assert not any(v % 11 == 0 for v in LETTER_VALUES.values())


def test_check_digit_of_the_standards_example() -> None:
    # ISO 6346's own example: CSQU 305438 3.
    assert iso6346_check_digit("CSQU305438") == 3


def test_a_remainder_of_ten_counts_as_zero() -> None:
    # Find an owner code and serial whose sum leaves 10: its check digit is 0.
    for serial in range(1000):
        first_ten = f"ABCU{serial:06d}"
        total = sum((LETTER_VALUES[c] if c.isalpha() else int(c)) * 2**i
                    for i, c in enumerate(first_ten))
        if total % 11 == 10:
            assert iso6346_check_digit(first_ten) == 0
            assert container_ok(first_ten + "0")
            return
    raise AssertionError("no serial with remainder 10 found")


@pytest.mark.parametrize("text, ok", [
    ("CSQU3054383", True), ("csqu 305438-3", True), ("CSQU3054384", False),
    ("CSQU3054382", False), ("CSQU3054380", False),
    ("CSQX3054383", False), ("CSQU305438", False), ("CSQU30543833", False), ("", False),
    ("MSKU9070323", True),
])
def test_container_numbers(text: str, ok: bool) -> None:
    assert container_ok(text) is ok


@pytest.mark.parametrize("text, normal", [
    ("020-12345675", "020-12345675"), ("02012345675", "020-12345675"),
    ("020 1234 5675", "020-12345675"), ("020-12345676", None), ("20-12345675", None),
    ("020-1234567", None), ("126-00000000", "126-00000000"), ("126-00000070", "126-00000070"),
    ("126-00000016", None),
    ("020-12345674", None),  # a check digit below the remainder (1234567 % 7 = 5)
])
def test_air_waybills(text: str, normal: str | None) -> None:
    assert normal_awb(text) == normal


def test_a_sea_shipment_holds() -> None:
    assert problems(sea()) == {}


def test_each_field_says_its_problem() -> None:
    found = problems(sea(hub="nowhere", planned_date=None, peb_number="12345", peb_date=None,
                         transport_document="", destination_locode="NL", quantity=None))
    assert found == {"hub": "unknown", "planned_date": "required", "peb_number": "bad_peb",
                     "peb_date": "required", "transport_document": "required",
                     "destination_locode": "bad_locode", "quantity": "required"}


def test_dates() -> None:
    assert problems(sea(peb_date=TODAY + dt.timedelta(days=1)))["peb_date"] == "future"
    assert problems(sea(planned_date=TODAY - dt.timedelta(days=2),
                        peb_date=TODAY - dt.timedelta(days=1)))["peb_date"] == "after_shipment"
    assert "peb_date" not in problems(sea(planned_date=TODAY, peb_date=TODAY))
    assert problems(sea(planned_date=TODAY + dt.timedelta(days=367)))["planned_date"] == \
        "out_of_range"
    assert "planned_date" not in problems(sea(planned_date=TODAY + dt.timedelta(days=366)))


def test_an_unknown_hub_is_the_only_problem_of_an_otherwise_good_declaration() -> None:
    # No mode: neither a sea nor an air rule applies, and none fails on the missing mode.
    assert problems(sea(hub="gilimanuk")) == {"hub": "unknown"}
    assert problems(sea(hub="gilimanuk", containers=(), destination_locode="NLAMS",
                        transport_document="020-12345675")) == {"hub": "unknown"}


def test_modes_read_from_elsewhere_are_compared_by_value() -> None:
    modes = {"benoa": typed("sea"), "ngurah-rai": typed("air")}
    assert problems(sea(), modes=modes) == {}
    air = sea(hub="ngurah-rai", containers=(), destination_locode="NLAMS",
              transport_document="020-12345676")
    assert problems(air, modes=modes) == {"transport_document": "bad_awb"}
    assert problems(sea(transport_document="AB!"), modes=modes) == {
        "transport_document": "bad_bill_of_lading"}
    assert problems(sea(hub="ngurah-rai", destination_locode="NLAMS",
                        transport_document="020-12345675"), modes=modes) == {
        "containers": "no_containers_by_air"}
    assert problems(sea(destination_locode="NLAMS"), modes=modes) == {
        "destination_locode": "wrong_mode"}
    assert problems(sea(hub="ngurah-rai", containers=(), transport_document="020-12345675",
                        destination_locode="JPYOK"), country="JP", modes=modes) == {
        "destination_locode": "wrong_mode"}
    assert may_decide_passage(typed("officer"), typed("51"))


def test_transport_documents_by_mode() -> None:
    air = sea(hub="ngurah-rai", containers=(), destination_locode="NLAMS",
              transport_document="020-12345675")
    assert problems(air) == {}
    assert problems(sea(hub="ngurah-rai", containers=(), destination_locode="NLAMS",
                        transport_document="020-12345676"))["transport_document"] == "bad_awb"
    assert problems(sea(transport_document="AB!"))["transport_document"] == \
        "bad_bill_of_lading"
    assert problems(sea(transport_document="ABC"))["transport_document"] == "bad_bill_of_lading"


def test_containers() -> None:
    assert problems(sea(containers=("CSQU3054384",)))["containers"] == "bad_container"
    assert problems(sea(containers=("CSQU3054383", "csqu3054383")))["containers"] == \
        "duplicate_container"
    assert problems(sea(containers=())) == {}
    assert problems(sea(containers=("CSQU3054383",) * 51))["containers"] == "too_many"
    assert problems(sea(containers=tuple(container(n) for n in range(50)))) == {}
    assert problems(sea(containers=tuple(container(n) for n in range(51)))) == {
        "containers": "too_many"}
    assert problems(sea(containers=("CSQU3054383", " ", ""))) == {}  # empty lines of the form
    air = sea(hub="ngurah-rai", destination_locode="NLAMS", transport_document="020-12345675")
    assert problems(air)["containers"] == "no_containers_by_air"


def test_destinations() -> None:
    assert problems(sea(destination_locode="XXXXX"))["destination_locode"] == "unknown_locode"
    assert problems(sea(destination_locode="JPYOK"))["destination_locode"] == "wrong_country"
    assert problems(sea(destination_locode="JPYOK"), country="JP") == {}
    assert problems(sea(), country="JP")["destination_locode"] == "wrong_country"
    assert problems(sea(), country=typed("NL")) == {}
    assert problems(sea(destination_locode="NLAMS"))["destination_locode"] == "wrong_mode"
    assert problems(sea(destination_locode=" nl rtm")) == {}
    air = sea(hub="ngurah-rai", containers=(), transport_document="020-12345675",
              destination_locode="JPYOK")
    assert problems(air, country="JP")["destination_locode"] == "wrong_mode"


def test_quantities() -> None:
    assert problems(sea(quantity=Decimal(0)))["quantity"] == "out_of_range"
    assert problems(sea(quantity=Decimal("-1")))["quantity"] == "out_of_range"
    assert problems(sea(quantity=Decimal("0.0001")))["quantity"] == "out_of_range"
    assert "quantity" not in problems(sea(quantity=Decimal("0.001")))
    assert fits(Decimal(1200), [Decimal(700)], Decimal(500))
    assert not fits(Decimal(1200), [Decimal(700)], Decimal("500.001"))
    assert fits(Decimal(1200), [], Decimal(1200))
    assert fits(Decimal(1200), [Decimal(700)], Decimal(400))
    assert remaining(Decimal(1200), [Decimal(700), Decimal(200)]) == Decimal(300)
    assert remaining(Decimal(100), [Decimal(700)]) == Decimal(0)


def test_who_decides() -> None:
    assert may_decide_passage("officer", "51")
    assert not may_decide_passage("officer", "52")
    assert not may_decide_passage("officer", "50")
    assert not may_decide_passage("printer", "51")
    assert not may_decide_passage("admin", "51")
    assert not may_decide_passage("admin", None)
    assert may_decide(ShipmentStatus.DECLARED)
    assert not any(may_decide(s) for s in (ShipmentStatus.CONFIRMED, ShipmentStatus.REFUSED,
                                           ShipmentStatus.CANCELLED))


@pytest.mark.parametrize("value", [sea(), PLACES["NLRTM"]])
def test_declarations_and_places_are_values(value: ShipmentInput | Destination) -> None:
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, getattr(value, field))
    assert {value, dataclasses.replace(value)} == {value}
