"""Print-job rules without Flask or the database: job fields, net content per label, and the
bound on what a batch's labels may claim in all (issue 11 §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

MAX_LABELS_PER_JOB = 100_000
DEFAULT_TOLERANCE_PERCENT = Decimal(2)
# What a package says it holds, e.g. "250 g", "1 kg", "2.5 l", "12 pcs", "1 head".
NET_QUANTITY_RE = re.compile(r"^([0-9]{1,6}(?:[.,][0-9]{1,3})?) ?(g|kg|t|ml|l|pcs|head)$",
                             re.IGNORECASE)
# Net-content unit → (what it measures, how many base units: g, ml, pieces, head).
NET_UNITS: dict[str, tuple[str, Decimal]] = {
    "g": ("mass", Decimal(1)), "kg": ("mass", Decimal(1000)), "t": ("mass", Decimal(10**6)),
    "ml": ("volume", Decimal(1)), "l": ("volume", Decimal(1000)),
    "pcs": ("pieces", Decimal(1)), "head": ("head", Decimal(1)),
}
# Counted things come whole: "1.5 pcs" on a label is a typo, not a quantity.
COUNTED = frozenset({"pieces", "head"})


@dataclass(frozen=True, slots=True)
class NetContent:
    """What one label says its package holds."""

    amount: Decimal
    unit: str  # a key of NET_UNITS

    @property
    def text(self) -> str:
        """As printed: the number as typed (decimal point), one space, the unit."""
        return f"{plain(self.amount)} {self.unit}"

    @property
    def dimension(self) -> str:
        return NET_UNITS[self.unit][0]

    @property
    def base(self) -> Decimal:
        return self.amount * NET_UNITS[self.unit][1]


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 100000, 1264.8, 0."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def parse_net_quantity(text: str) -> NetContent | None:
    """The net content of ``text``, or None when it is malformed, zero or a fraction of a
    counted thing."""
    match = NET_QUANTITY_RE.match((text or "").strip())
    if not match:
        return None
    amount = Decimal(match.group(1).replace(",", "."))
    net = NetContent(amount, match.group(2).lower())
    if amount <= 0 or (net.dimension in COUNTED and amount != amount.to_integral_value()):
        return None
    return net


def net_problem(text: str, batch_unit: str) -> tuple[NetContent | None, str | None]:
    """The parsed net content and None, or None and a problem code: ``bad_net_quantity``
    (not a net quantity) or ``incomparable_unit`` (cannot be counted against the batch)."""
    net = parse_net_quantity(text)
    if net is None:
        return None, "bad_net_quantity"
    if batch_unit not in NET_UNITS or NET_UNITS[batch_unit][0] != net.dimension:
        return None, "incomparable_unit"
    return net, None


def default_net(batch_unit: str) -> str:
    """A preview's net quantity until the exporter types one: one of the batch's unit."""
    return "1 kg" if batch_unit == "t" else f"1 {batch_unit}"


def to_batch_unit(base: Decimal, batch_unit: str) -> Decimal:
    """Base units (g, ml, pieces, head) in the batch's unit."""
    return base / NET_UNITS[batch_unit][1]


def job_problems(*, quantity: int, net_quantity: str, stock: str, stocks: set[str],
                 batch_unit: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not 1 <= quantity <= MAX_LABELS_PER_JOB:
        problems["quantity"] = "out_of_range"
    _net, problem = net_problem(net_quantity, batch_unit)
    if problem:
        problems["net_quantity"] = problem
    if stock not in stocks:
        problems["stock"] = "unknown"
    return problems


@dataclass(frozen=True, slots=True)
class LabelBound:
    """What a batch's labels claim in all against what they may, in the batch's unit.

    ``allowed`` = certified quantity × (1 + tolerance) + officers' allowances. Reprints are not
    orders (same serials), so they never enter ``ordered``."""

    certified: Decimal
    unit: str
    tolerance_percent: Decimal
    allowances: Decimal
    ordered: Decimal  # by the batch's jobs so far

    @property
    def allowed(self) -> Decimal:
        return self.certified * (1 + self.tolerance_percent / 100) + self.allowances

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.allowed - self.ordered)

    def admits(self, this_order: Decimal) -> bool:
        return self.ordered + this_order <= self.allowed


def ordered_base(jobs: list[tuple[int, str]], batch_unit: str) -> Decimal:
    """Labels × net content over ``(quantity, net text)`` of a batch's jobs, in base units.

    A job whose net content cannot be compared with the batch (ordered before this rule
    existed) cannot be counted, and is left out."""
    total = Decimal(0)
    for quantity, text in jobs:
        net, problem = net_problem(text, batch_unit)
        if net is not None and problem is None:
            total += quantity * net.base
    return total


def label_bound(*, certified: Decimal, batch_unit: str, tolerance_percent: Decimal,
                allowances: Decimal, jobs: list[tuple[int, str]]) -> LabelBound:
    return LabelBound(certified=certified, unit=batch_unit,
                      tolerance_percent=Decimal(tolerance_percent), allowances=allowances,
                      ordered=to_batch_unit(ordered_base(jobs, batch_unit), batch_unit))


def allowance_problems(amount: Decimal | None, reason: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if amount is None or not (Decimal(0) < amount <= Decimal("99999999999.999")) \
            or amount != amount.quantize(Decimal("0.001")):
        problems["amount"] = "out_of_range"
    reason_problem = _reason_problem(reason)
    if reason_problem:
        problems["reason"] = reason_problem
    return problems


def _reason_problem(reason: str | None) -> str | None:
    """A reason a person must give (an allowance, a reprint): said, and at most 500 long."""
    reason = (reason or "").strip()
    if not reason:
        return "required"
    return "too_long" if len(reason) > 500 else None


def sheet_range_problems(first: int, last: int, sheets: int) -> dict[str, str]:
    if not (1 <= first <= last <= sheets):
        return {"sheet_last": "bad_sheets"}
    return {}


# A reprint replaces damaged sheets and is rendered in the request (small, and the print shop
# waits for it); more than this is a new download of the job's file, rendered by the worker.
MAX_REPRINT_SHEETS = 200


def sheet_serials(serial_first: int, serial_last: int, labels_per_sheet: int,
                  sheet_first: int, sheet_last: int) -> tuple[int, int]:
    """The first and last serial on sheets ``sheet_first`` to ``sheet_last`` (counted from 1)
    of a job printing ``serial_first`` to ``serial_last``, ``labels_per_sheet`` a sheet: what
    a reprint of those sheets issues again, and nothing more (the job's last sheet may be
    partly empty)."""
    first = serial_first + (sheet_first - 1) * labels_per_sheet
    last = min(serial_last, serial_first + sheet_last * labels_per_sheet - 1)
    return first, last


def reprint_problems(first: int, last: int, sheets: int, reason: str) -> dict[str, str]:
    """A reprint issues the same serials again: within the job, at most MAX_REPRINT_SHEETS
    sheets, and only with a reason."""
    problems = sheet_range_problems(first, last, sheets)
    if not problems and last - first + 1 > MAX_REPRINT_SHEETS:
        problems["sheet_last"] = "too_many_sheets"
    reason_problem = _reason_problem(reason)
    if reason_problem:
        problems["reason"] = reason_problem
    return problems
