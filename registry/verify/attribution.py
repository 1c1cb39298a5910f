"""Whose problem a not-genuine answer is (issue 11 §6).

A scan or a buyer's report of a code that fails verification, but names a GTIN (and lot) the
registry knows, goes to that product's exporter and to the trade office of the origin
province: the batch's origin province when the lot is known, else the province of the
exporter's organisation. A code naming no known product goes to the administrators.

This runs only on not-genuine answers (and on reports), as its own small query, so the
genuine path pays nothing for it. The desk's words for the kinds are in
``registry.desk.vocabulary``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from registry.gs1 import digital_link as gs1
from registry.verify.lookup import dialect_of


class Kind(StrEnum):
    """Why a code was not genuine, as the desk groups it."""

    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"
    UNKNOWN_PRODUCT = "unknown_product"
    UNKNOWN_LOT = "unknown_lot"
    NEVER_PRINTED = "never_printed"
    NOT_CERTIFIED = "not_certified"
    OTHER = "other"  # a verdict this module does not know (a specimen code, say)


# Verdicts whose scans belong to a batch (attributed through it); any other verdict, known
# today or added later, is treated as not genuine and attributed here.
BATCH_VERDICTS = frozenset({"genuine", "possible_copy", "suspended", "revoked", "expired"})

_SIGNAL_KINDS = {
    "bad_signature": Kind.BAD_SIGNATURE, "unknown_key": Kind.UNKNOWN_KEY,
    "revoked_key": Kind.REVOKED_KEY, "never_printed": Kind.NEVER_PRINTED,
    "not_certified": Kind.NOT_CERTIFIED,
}


@dataclass(frozen=True)
class Attribution:
    product_id: int | None = None
    organisation_id: int | None = None
    province_code: str | None = None
    kind: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "organisation_id": self.organisation_id,
                "province_code": self.province_code, "kind": self.kind}


NONE = Attribution()

_SQL = """
SELECT p.id, p.organisation_id, o.province_code,
       (SELECT b.origin_province_code FROM batch b
         WHERE b.product_id = p.id AND b.lot_code = :lot LIMIT 1)
  FROM product p LEFT JOIN organisation o ON o.id = p.organisation_id
 WHERE {product}
 LIMIT 1
"""
_PRODUCT = {
    # The same rule as the lookup: a product with a company GTIN is never labelled with a
    # registry-issued one.
    "registry": "p.id = :product_id AND (p.gtin IS NULL OR p.gtin = '')",
    "company": "p.gtin = :gtin",
}


def _statement(dialect: str, product: str) -> str:
    sql = _SQL.format(product=_PRODUCT[product])
    return sql if dialect == "sqlite" else re.sub(r":(\w+)", r"%(\1)s", sql)


_STATEMENTS = {(d, p): _statement(d, p) for d in ("sqlite", "postgresql") for p in _PRODUCT}


def kind_of(signals: list[str]) -> Kind:
    for signal in signals:
        if signal in _SIGNAL_KINDS:
            return _SIGNAL_KINDS[signal]
    if "unknown_code" in signals:
        return Kind.UNKNOWN_LOT  # refined to an unknown product by ``attribute``
    return Kind.OTHER


def attribute(connection: Any, link: gs1.DigitalLink, signals: list[str]) -> Attribution:
    """The exporter, province and kind of a not-genuine code; ``connection`` is DB-API."""
    dialect = dialect_of(connection)
    params: dict[str, object]
    if link.gtin.startswith(gs1.REGISTRY_GTIN_PREFIX):
        product, params = "registry", {"product_id": int(link.gtin[4:13])}
    else:
        product, params = "company", {"gtin": link.gtin}
    cursor = connection.cursor()
    try:
        cursor.execute(_STATEMENTS[dialect, product], {**params, "lot": link.lot})
        row = cursor.fetchone()
    finally:
        cursor.close()
    kind = kind_of(signals)
    if row is None:
        if kind is Kind.UNKNOWN_LOT:
            kind = Kind.UNKNOWN_PRODUCT
        return Attribution(kind=kind.value)
    product_id, organisation_id, org_province, batch_province = row
    return Attribution(product_id=product_id, organisation_id=organisation_id,
                       province_code=batch_province or org_province, kind=kind.value)
