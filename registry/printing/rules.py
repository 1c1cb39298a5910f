"""Print-job rules without Flask or the database."""

from __future__ import annotations

import re

MAX_LABELS_PER_JOB = 100_000
# What a package says it holds, e.g. "250 g", "1 kg", "2.5 l", "1 pcs".
NET_QUANTITY_RE = re.compile(r"^\d{1,6}(?:[.,]\d{1,3})? ?(?:g|kg|ml|l|pcs)$")


def job_problems(*, quantity: int, net_quantity: str, stock: str,
                 stocks: set[str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not 1 <= quantity <= MAX_LABELS_PER_JOB:
        problems["quantity"] = "out_of_range"
    if not NET_QUANTITY_RE.match(net_quantity.strip()):
        problems["net_quantity"] = "bad_net_quantity"
    if stock not in stocks:
        problems["stock"] = "unknown"
    return problems


def sheet_range_problems(first: int, last: int, sheets: int) -> dict[str, str]:
    if not (1 <= first <= last <= sheets):
        return {"sheet_last": "bad_sheets"}
    return {}
