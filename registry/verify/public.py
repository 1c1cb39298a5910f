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

from registry.certificates.rules import DEFAULT_ISSUER, check_page, is_certificate, standard

if TYPE_CHECKING:
    from registry.verify.services import Resolution

# The contract of ``verification_json`` (JSON Schema 2020-12); the tests validate answers of
# every verdict against it.
SCHEMA = Path(__file__).with_name("schemas") / "verification.schema.json"


@dataclass(frozen=True, slots=True)
class CertificatePublic:
    """A public certificate's facts: a claim a buyer can check with its issuer."""

    number: str
    issuer: str
    issued_on: dt.date | None
    expires_on: dt.date | None
    form_type: str | None
    scheme: str | None
    standard: str
    check_url: str | None

    @classmethod
    def of(cls, kind: str, number: str | None, issuer: str | None, issued_on: dt.date | None,
           expires_on: dt.date | None, form_type: str | None, scheme: str | None,
           ) -> CertificatePublic | None:
        """A public document's certificate claim; None unless it is a certificate with a
        number (a scan alone claims nothing a buyer could check)."""
        if number is None or not is_certificate(kind):
            return None
        return cls(number=number, issuer=issuer or DEFAULT_ISSUER.get(kind, ""),
                   issued_on=issued_on, expires_on=expires_on, form_type=form_type,
                   scheme=scheme, standard=standard(kind, form_type, scheme),
                   check_url=check_page(kind, scheme))

    def as_gs1(self) -> dict[str, Any]:
        """GS1 Web Vocabulary ``gs1:CertificationDetails`` (https://ref.gs1.org/voc/)."""
        out: dict[str, Any] = {
            "@type": "gs1:CertificationDetails",
            "gs1:certificationAgency": self.issuer,
            "gs1:certificationStandard": self.standard,
            "gs1:certificationIdentification": self.number,
        }
        if self.issued_on:
            out["gs1:certificationStartDate"] = self.issued_on.isoformat()
        if self.expires_on:
            out["gs1:certificationEndDate"] = self.expires_on.isoformat()
        if self.check_url:
            out["gs1:certificationURI"] = self.check_url
        return out


@dataclass(frozen=True, slots=True)
class DocumentPublic:
    kind: str
    url: str
    sha256: str
    certificate: CertificatePublic | None = None


# The members each journey step carries, in order (schemas/verification.schema.json).
JOURNEY_KEYS: dict[str, tuple[str, ...]] = {
    "produced": ("date", "regency_code", "regency", "province"),
    "certified": ("date", "office"),
    "hub_passage": ("date", "hub", "hub_name", "locode"),
    "shipped": ("country", "locode", "port"),
}


@dataclass(frozen=True, slots=True)
class JourneyStep:
    """One step of the batch's journey, as the page's timeline and the JSON tell it:
    ``produced`` (date, regency, province), ``certified`` (office, date), ``hub_passage``
    (hub, date) and ``shipped`` (country, port); a batch that left in several shipments
    has a passage and a destination for each."""

    step: str
    date: dt.date | None = None
    regency_code: str | None = None
    regency: str | None = None
    province: str | None = None
    office: str | None = None
    hub: str | None = None  # the registry's hub id, e.g. "benoa"
    hub_name: str | None = None
    locode: str | None = None  # the hub's or the port's UN/LOCODE
    port: str | None = None
    country: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.step}
        for key in JOURNEY_KEYS[self.step]:
            value = getattr(self, key)
            out[key] = value.isoformat() if isinstance(value, dt.date) else value
        return out


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
    journey: list[JourneyStep] = dataclasses.field(default_factory=list)
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
                # The certificates among them, as claims (issue 18 §2).
                out["gs1:certificationInfo"] = [d.certificate.as_gs1() for d in self.documents
                                                if d.certificate is not None]
            elif f.name == "journey":
                value = [step.as_json() for step in value]
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
