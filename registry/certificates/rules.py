"""Certificates as facts (issue 18 §2): which evidence kinds are certificates, the format of
their numbers, the issuers' public check pages, and which certificates a batch still lacks.
No Flask, no database.

Each check returns field → problem code, as ``catalog.rules`` does; forms turn codes into
messages. The words a person reads for each member are in ``certificates/vocabulary.py``.

Where a number's format comes from is said beside its pattern. Indonesian agencies publish
few formal specifications of their numbering: where a pattern was inferred from public
examples (certificates and labels seen on the issuers' own search pages and on packages), the
comment says so, and the pattern is kept loose enough not to refuse a genuine number whose
variant we have not seen. A kind without a known format takes any number of 1–64 printable
characters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from registry.catalog.rules import Category, DocumentKind
from registry.reference import country_codes

# The evidence kinds that are certificates: they carry a number, an issuer and dates.
# Laboratory results and "other" documents stay plain attachments.
CERTIFICATE_KINDS: frozenset[str] = frozenset({
    DocumentKind.HALAL, DocumentKind.BPOM, DocumentKind.CERTIFICATE_OF_ORIGIN,
    DocumentKind.SNI, DocumentKind.ORGANIC, DocumentKind.PHYTOSANITARY,
    DocumentKind.FISHERY_HEALTH,
})


class OriginForm(StrEnum):
    """The form of a certificate of origin (Surat Keterangan Asal, SKA): which trade
    agreement's preference it claims, or none (general). The values are stored."""

    FORM_D = "form_d"  # ATIGA (ASEAN)
    FORM_E = "form_e"  # ASEAN–China
    FORM_AK = "form_ak"  # ASEAN–Korea
    FORM_AJCEP = "form_ajcep"  # ASEAN–Japan
    FORM_IJEPA = "form_ijepa"  # Indonesia–Japan
    FORM_AANZ = "form_aanz"  # ASEAN–Australia–New Zealand
    FORM_AI = "form_ai"  # ASEAN–India
    GENERAL = "non_preferential"


class OrganicScheme(StrEnum):
    """Whose organic standard a certificate attests. The values are stored."""

    # SNI 6729 "Organik Indonesia", certified by a KAN-accredited body.
    INDONESIA = "organik_indonesia"
    EU = "eu_organic"  # Regulation (EU) 2018/848
    USDA_NOP = "usda_nop"  # USDA National Organic Program


# The issuing authority a person reads when the exporter names none: the only issuer of the
# kind in Indonesia (kinds certified by many accredited bodies, SNI and organic, have none).
DEFAULT_ISSUER: dict[str, str] = {
    DocumentKind.HALAL: "BPJPH",  # Badan Penyelenggara Jaminan Produk Halal (Law 33/2014)
    DocumentKind.BPOM: "BPOM",  # Badan Pengawas Obat dan Makanan
    DocumentKind.CERTIFICATE_OF_ORIGIN: "Kementerian Perdagangan",  # via its e-SKA issuers
    DocumentKind.PHYTOSANITARY: "Badan Karantina Indonesia",  # Barantin, quarantine e-Cert
    DocumentKind.FISHERY_HEALTH: "Badan Karantina Indonesia",  # fish quarantine since 2023
}

# Numbers are compared and shown without the spaces and case people type them with.
_SPACES = re.compile(r"\s+")

NUMBER_FORMATS: dict[str, re.Pattern[str]] = {
    # BPJPH halal certificates (SIHALAL, since 2019): "ID" followed by 17 digits, e.g.
    # ID35110000123450722. Inferred from certificates published on
    # bpjph.halal.go.id/search/sertifikat; BPJPH publishes no specification of the number.
    DocumentKind.HALAL: re.compile(r"ID\d{17}"),
    # BPOM registration of processed food: "MD" (made in Indonesia) or "ML" (imported) and 12
    # digits, as printed on packages ("BPOM RI MD 224510001234"); the leading "BPOM RI" is
    # dropped by ``normalise_number``. Inferred from cekbpom.pom.go.id results; some older
    # numbers have 15 digits, so both lengths are taken.
    DocumentKind.BPOM: re.compile(r"(MD|ML)\d{12}(\d{3})?"),
}

# The issuers' public pages where a buyer can look a number up. Only where the page exists
# and answers anyone, without an account; nothing is derived for the other kinds.
CHECK_PAGES: dict[str, str] = {
    DocumentKind.HALAL: "https://bpjph.halal.go.id/search/sertifikat",
    DocumentKind.BPOM: "https://cekbpom.pom.go.id/",
}
# USDA's Organic Integrity Database lists every NOP-certified operation.
ORGANIC_CHECK_PAGES: dict[str, str] = {
    OrganicScheme.USDA_NOP: "https://organic.ams.usda.gov/integrity/",
}

MAX_NUMBER = 64
MAX_ISSUER = 200
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


def is_certificate(kind: str) -> bool:
    return kind in CERTIFICATE_KINDS


def normalise_number(kind: str, number: str) -> str:
    """The number as stored: no spaces, upper case; a BPOM number without "BPOM RI"."""
    value = _SPACES.sub("", number or "").upper()
    if kind == DocumentKind.BPOM:
        value = value.removeprefix("BPOMRI")
    return value


def check_page(kind: str, scheme: str | None = None) -> str | None:
    """The issuer's public check page for a certificate of ``kind`` (and organic ``scheme``),
    or None when the issuer has none."""
    if kind == DocumentKind.ORGANIC:
        return ORGANIC_CHECK_PAGES.get(scheme or "")
    return CHECK_PAGES.get(kind)


@dataclass(frozen=True)
class CertificateInput:
    """A certificate's facts as typed: all optional for the service, which says what is
    missing (see ``certificate_problems``)."""

    number: str = ""
    issuer: str = ""
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    form_type: str = ""  # certificates of origin: an ``OriginForm``
    scheme: str = ""  # organic certificates: an ``OrganicScheme``

    @property
    def empty(self) -> bool:
        return not (self.number.strip() or self.issuer.strip() or self.issued_on
                    or self.expires_on or self.form_type or self.scheme)


def certificate_problems(kind: str, data: CertificateInput, today: dt.date) -> dict[str, str]:
    """What is wrong with a certificate's facts for an evidence document of ``kind``.

    Facts on a kind that is not a certificate are refused (they would be shown as a claim).
    A certificate may be uploaded without them (a scan first, as before issue 18): the number
    is asked for as soon as any fact is given, and the facts given must hold together."""
    problems: dict[str, str] = {}
    if not is_certificate(kind):
        return {} if data.empty else {"number": "not_a_certificate"}
    if data.empty:
        return {}
    number = normalise_number(kind, data.number)
    pattern = NUMBER_FORMATS.get(kind)
    if not number:
        problems["number"] = "required"
    elif len(number) > MAX_NUMBER or not _PRINTABLE.fullmatch(number):
        problems["number"] = "bad_number"
    elif pattern is not None and not pattern.fullmatch(number):
        problems["number"] = "bad_format"
    if len(data.issuer.strip()) > MAX_ISSUER:
        problems["issuer"] = "too_long"
    if data.issued_on is not None and data.issued_on > today:
        problems["issued_on"] = "future"
    if (data.issued_on is not None and data.expires_on is not None
            and data.expires_on < data.issued_on):
        problems["expires_on"] = "before_issue"
    if kind == DocumentKind.CERTIFICATE_OF_ORIGIN:
        if data.form_type not in set(OriginForm):
            problems["form_type"] = "required" if not data.form_type else "unknown"
    elif data.form_type:
        problems["form_type"] = "not_applicable"
    if kind == DocumentKind.ORGANIC:
        if data.scheme not in set(OrganicScheme):
            problems["scheme"] = "required" if not data.scheme else "unknown"
    elif data.scheme:
        problems["scheme"] = "not_applicable"
    return problems


# ---------------------------------------------------------------- required certificates


@dataclass(frozen=True)
class RuleInput:
    """An administrator's rule: batches of ``category`` (going to ``destination``, or
    anywhere when empty) need a valid certificate of ``kind`` before approval."""

    category: str
    kind: str
    destination: str = ""


def rule_problems(data: RuleInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    if data.category not in set(Category):
        problems["category"] = "unknown"
    if not is_certificate(data.kind):
        problems["kind"] = "unknown"
    if data.destination and (data.destination not in country_codes()
                             or data.destination == "ID"):
        problems["destination"] = "unknown"
    return problems


@dataclass(frozen=True)
class Held:
    """A certificate a batch holds: its kind and when it expires (None: no end date)."""

    kind: str
    expires_on: dt.date | None


@dataclass(frozen=True)
class Gaps:
    """The required kinds a batch lacks, and those it holds only expired."""

    missing: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.expired)


def required_kinds(rules: Iterable[RuleInput], category: str, destination: str) -> list[str]:
    """The kinds the rules require of a batch of ``category`` going to ``destination``, in
    the order of ``DocumentKind``."""
    wanted = {r.kind for r in rules
              if r.category == category and r.destination in ("", destination)}
    return [k.value for k in DocumentKind if k in wanted]


def expired(held: Held, today: dt.date) -> bool:
    """A certificate is valid through its expiry date (WITA) and expired the day after."""
    return held.expires_on is not None and held.expires_on < today


def gaps(required: Sequence[str], held: Collection[Held], today: dt.date) -> Gaps:
    """Which ``required`` kinds have no certificate, and which only expired ones: one valid
    certificate of a kind is enough, whatever else the batch holds."""
    missing, lapsed = [], []
    for kind in required:
        of_kind = [h for h in held if h.kind == kind]
        if not of_kind:
            missing.append(kind)
        elif all(expired(h, today) for h in of_kind):
            lapsed.append(kind)
    return Gaps(tuple(missing), tuple(lapsed))


# ---------------------------------------------------------------- expiry alerts

# Days before a certificate's expiry date that its batch's exporter and office are told:
# a month ahead (time to renew), and on the day itself.
ALERT_DAYS: tuple[int, ...] = (30, 0)


def alert_due(expires_on: dt.date, today: dt.date) -> int | None:
    """The alert threshold (days ahead) that is due today for a certificate expiring on
    ``expires_on``, or None. A sweep that missed the exact day (the worker was down) still
    sends the 30-day alert while more than the on-the-day one remains."""
    left = (expires_on - today).days
    if left == 0:
        return 0
    if 0 < left <= 30:
        return 30
    return None


def expiring_soon(expires_on: dt.date | None, today: dt.date) -> bool:
    """Whether the batch page warns of this certificate: expiring within 30 days, or
    expired."""
    return expires_on is not None and (expires_on - today).days <= max(ALERT_DAYS)


# ---------------------------------------------------------------- for machines

# ``gs1:certificationStandard`` of the JSON answers: the standard a certificate attests, in
# English (a machine-readable claim, not a page's words, so not translated).
STANDARDS: dict[str, str] = {
    DocumentKind.HALAL: "Indonesian halal certification (Law 33/2014, BPJPH)",
    DocumentKind.BPOM: "BPOM processed food registration",
    DocumentKind.CERTIFICATE_OF_ORIGIN: "Certificate of origin (SKA)",
    DocumentKind.SNI: "SNI product certification (SPPT-SNI)",
    DocumentKind.ORGANIC: "Organic certification",
    DocumentKind.PHYTOSANITARY: "Phytosanitary certificate (IPPC ISPM 12)",
    DocumentKind.FISHERY_HEALTH: "Fish health certificate",
}
DETAIL_STANDARDS: dict[str, str] = {
    OriginForm.FORM_D: "Form D (ATIGA)", OriginForm.FORM_E: "Form E (ACFTA)",
    OriginForm.FORM_AK: "Form AK (AKFTA)", OriginForm.FORM_AJCEP: "Form AJCEP",
    OriginForm.FORM_IJEPA: "Form IJEPA", OriginForm.FORM_AANZ: "Form AANZ (AANZFTA)",
    OriginForm.FORM_AI: "Form AI (AIFTA)", OriginForm.GENERAL: "non-preferential",
    OrganicScheme.INDONESIA: "SNI 6729 Organik Indonesia",
    OrganicScheme.EU: "Regulation (EU) 2018/848", OrganicScheme.USDA_NOP: "USDA NOP",
}


def standard(kind: str, form_type: str | None, scheme: str | None) -> str:
    base = STANDARDS.get(kind, kind)
    detail = DETAIL_STANDARDS.get(form_type or scheme or "")
    return f"{base}: {detail}" if detail else base
