"""What the public verification page and JSON may show: a whitelist, nothing else leaks.

The JSON answer of a label's verification page is shaped here, beside its contract
(``schemas/verification.schema.json``, which the tests hold every verdict's answer to). Plain
dataclasses rather than models: built on every scan from rows the lookup already typed, where
validating them again cost as much as the page itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry.verify.services import Resolution

# The contract of ``verification_json`` (JSON Schema 2020-12); the tests validate answers of
# every verdict against it.
SCHEMA = Path(__file__).with_name("schemas") / "verification.schema.json"


@dataclass(frozen=True, slots=True)
class DocumentPublic:
    kind: str
    url: str
    sha256: str


@dataclass(frozen=True, slots=True)
class BatchPublic:
    product_name: str
    product_name_id: str
    category: str
    hs_code: str
    photo_url: str | None
    lot: str
    quantity: str
    unit: str
    production_date: dt.date
    best_before: dt.date | None
    origin_regency_code: str
    origin_regency: str
    origin_province: str
    producer: str
    hub: str
    destination_country: str
    exporter: str
    certifying_office: str | None
    certified_on: dt.date | None
    valid_until: dt.date | None
    status: str
    revocation_reason: str | None
    suspension_reason: str | None
    documents: list[DocumentPublic]
    # Only whether plot geolocation is on record for EU due diligence: farmers' plots are
    # personal data and never public.
    plot_geolocation_on_record: bool = False

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO 8601 strings (see schemas/verification.schema.json)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif f.name == "documents":
                value = [{"kind": d.kind, "url": d.url, "sha256": d.sha256} for d in value]
            out[f.name] = value
        return out


def verification_json(r: Resolution, *, page: str, linkset: str, keys: str) -> dict[str, Any]:
    """A label's verification as JSON (``SCHEMA``); ``page``, ``linkset``, ``keys``: absolute
    URLs of its page, its linkset and the registry's keys."""
    link = r.link
    return {
        "verdict": r.verdict.value,
        "signals": [s.value for s in r.signals],
        "label": {"gtin": link.gtin, "lot": link.lot, "serial": link.serial,
                  "key_id": link.key_id, "signature": r.signature.value},
        "batch": r.public.as_json() if r.public else None,
        "links": {"page": page, "linkset": linkset, "keys": keys},
    }
