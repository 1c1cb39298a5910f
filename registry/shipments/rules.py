"""What a shipment declaration must satisfy, as the standards say: no Flask, no database.

- Container numbers: ISO 6346 (owner code, category U/J/Z, six-digit serial, check digit).
- Air waybill numbers: IATA (three-digit airline prefix, eight-digit serial whose last digit
  is the first seven modulo 7), written "NNN-NNNNNNNN".
- Customs export declaration (PEB, Pemberitahuan Ekspor Barang): its registration number,
  six digits, and its date (not in the future).
- Destination: a UN/LOCODE from the reference data, in the batch's destination country (the
  certificate names that country), a port for a sea hub and an airport for an air hub.
- Quantity: the sum of the batch's shipments that were not refused or cancelled may not
  exceed the certified quantity.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class ShipmentStatus(StrEnum):
    DECLARED = "declared"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    CANCELLED = "cancelled"


# Shipments that hold part of the certified quantity: a refused or cancelled one frees it.
HOLDING = (ShipmentStatus.DECLARED, ShipmentStatus.CONFIRMED)
MAX_CONTAINERS = 50
MAX_PLANNED_DAYS_AHEAD = 366
MAX_REASON = 1000

_CONTAINER = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
_AWB = re.compile(r"([0-9]{3})-?([0-9]{8})")
_PEB = re.compile(r"[0-9]{6}")
_BILL_OF_LADING = re.compile(r"[A-Z0-9]{4,35}")
_LOCODE = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")


def _letter_values() -> dict[str, int]:
    """ISO 6346 letter values: A=10 upwards, skipping multiples of 11 (11, 22, 33)."""
    values: dict[str, int] = {}
    value = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values


LETTER_VALUES = _letter_values()


def iso6346_check_digit(first_ten: str) -> int:
    """The check digit of a container number's first ten characters (owner code, category,
    serial): each character's value times 2**position, summed, modulo 11; 10 counts as 0."""
    total = 0
    for position, char in enumerate(first_ten):
        value = LETTER_VALUES[char] if char.isalpha() else int(char)
        total += value * 2**position
    return total % 11 % 10


def normal_container(text: str) -> str:
    """A container number as written on the box, without spaces or dashes, upper case."""
    return re.sub(r"[\s-]", "", text).upper()


def container_ok(text: str) -> bool:
    number = normal_container(text)
    return bool(_CONTAINER.fullmatch(number)) and \
        iso6346_check_digit(number[:10]) == int(number[10])


def normal_awb(text: str) -> str | None:
    """An air waybill number as "NNN-NNNNNNNN" when its check digit holds, else None."""
    match = _AWB.fullmatch(re.sub(r"\s", "", text))
    if match is None:
        return None
    prefix, serial = match.groups()
    if int(serial[:7]) % 7 != int(serial[7]):
        return None
    return f"{prefix}-{serial}"


def normal_bill_of_lading(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


@dataclass(frozen=True)
class Destination:
    """A UN/LOCODE entry as the rules need it."""

    country: str
    port: bool
    airport: bool


@dataclass(frozen=True)
class ShipmentInput:
    hub: str
    planned_date: dt.date | None
    peb_number: str
    peb_date: dt.date | None
    transport_document: str  # bill of lading (sea) or air waybill (air)
    destination_locode: str
    quantity: Decimal | None
    containers: Sequence[str] = field(default_factory=tuple)


def shipment_problems(data: ShipmentInput, *, today: dt.date, hub_modes: Mapping[str, str],
                      destination_country: str,
                      locodes: Mapping[str, Destination]) -> dict[str, str]:
    """Each field's problem code (``registry.web.messages``); empty when the declaration holds.
    The quantity's bound is checked by ``fits`` under the batch's lock."""
    problems: dict[str, str] = {}
    mode = hub_modes.get(data.hub)
    if mode is None:
        problems["hub"] = "unknown"
    if data.planned_date is None:
        problems["planned_date"] = "required"
    elif data.planned_date > today + dt.timedelta(days=MAX_PLANNED_DAYS_AHEAD):
        problems["planned_date"] = "out_of_range"
    if not _PEB.fullmatch(data.peb_number.strip()):
        problems["peb_number"] = "bad_peb"
    if data.peb_date is None:
        problems["peb_date"] = "required"
    elif data.peb_date > today:
        problems["peb_date"] = "future"
    elif data.planned_date is not None and data.peb_date > data.planned_date:
        problems["peb_date"] = "after_shipment"
    document = data.transport_document.strip()
    if not document:
        problems["transport_document"] = "required"
    elif mode == "air" and normal_awb(document) is None:
        problems["transport_document"] = "bad_awb"
    elif mode == "sea" and not _BILL_OF_LADING.fullmatch(normal_bill_of_lading(document)):
        problems["transport_document"] = "bad_bill_of_lading"
    containers = [c for c in data.containers if c.strip()]
    if containers and mode == "air":
        problems["containers"] = "no_containers_by_air"
    elif len(containers) > MAX_CONTAINERS:
        problems["containers"] = "too_many"
    elif any(not container_ok(c) for c in containers):
        problems["containers"] = "bad_container"
    elif len({normal_container(c) for c in containers}) != len(containers):
        problems["containers"] = "duplicate_container"
    problems.update(_destination_problem(data.destination_locode, mode, destination_country,
                                         locodes))
    if data.quantity is None:
        problems["quantity"] = "required"
    elif data.quantity <= 0 or data.quantity.as_tuple().exponent < -3:  # type: ignore[operator]
        problems["quantity"] = "out_of_range"
    return problems


def _destination_problem(code: str, mode: str | None, country: str,
                         locodes: Mapping[str, Destination]) -> dict[str, str]:
    code = code.strip().upper().replace(" ", "")
    if not _LOCODE.fullmatch(code):
        return {"destination_locode": "bad_locode"}
    place = locodes.get(code)
    if place is None:
        return {"destination_locode": "unknown_locode"}
    if place.country != country:
        return {"destination_locode": "wrong_country"}
    if (mode == "sea" and not place.port) or (mode == "air" and not place.airport):
        return {"destination_locode": "wrong_mode"}
    return {}


def fits(certified: Decimal, shipped: Sequence[Decimal], this: Decimal) -> bool:
    """Whether ``this`` shipment keeps the batch's shipments within the certified quantity
    (``shipped``: the quantities of its shipments that still hold part of it)."""
    return sum(shipped, Decimal(0)) + this <= certified


def remaining(certified: Decimal, shipped: Sequence[Decimal]) -> Decimal:
    return max(certified - sum(shipped, Decimal(0)), Decimal(0))


# Who decides what: the trade office of Bali, where the hubs are, confirms passages of
# batches of any origin.
HUB_PROVINCE = "51"


def may_decide_passage(role: str, province: str | None) -> bool:
    return role == "officer" and province == HUB_PROVINCE


def may_decide(status: ShipmentStatus) -> bool:
    return status is ShipmentStatus.DECLARED
