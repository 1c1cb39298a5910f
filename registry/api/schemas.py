"""Request and response models of API v1 (pydantic v2, as SQLModel uses).

Request models only check *types* (and what a database column can hold); every business rule
(lot code syntax, ranges, known codes, who may see what) stays in the services and
``catalog.rules``, which the web pages use too. The ``enum`` lists in the schemas are taken
from the same reference data the rules check against, for clients' documentation only.

Response models are the whitelist of what the API shows: no stored file names, no uploader
ids, no other organisation's internals. Exporters read their own batches; officers read the
same ``BatchRead`` of batches in their province, plus the exporter's name.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from registry.catalog.certification import OFFICER_ACTIONS, Display, Status
from registry.catalog.rules import Category, DocumentKind, Unit
from registry.certificates.rules import OrganicScheme, OriginForm
from registry.db import MAX_ID
from registry.plaintext import TextProblem, text_problem
from registry.reference import HUBS, country_codes, regencies

# PostgreSQL INTEGER: ids and versions beyond it cannot exist, and must never reach a query.
# batch.declared_value_idr is BIGINT (migration 0005); the rule itself allows up to 10**15.
MAX_DECLARED_VALUE = 2**63 - 1


def _unicode(value: str) -> str:
    # Lone surrogates cannot be stored as UTF-8 (the driver would fail on them).
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


TEXT_PROBLEMS = {
    TextProblem.CONTROL: "must not contain control characters",
    TextProblem.BIDI: "must not contain text-direction override characters "
                      "(U+202A-U+202E, U+2066-U+2069)",
    TextProblem.LINE_BREAK: "must not contain line breaks",
}


def _text(value: str) -> str:
    problem = text_problem(_unicode(value))
    if problem is not None:
        raise ValueError(TEXT_PROBLEMS[problem])
    return value


def _multiline_text(value: str) -> str:
    problem = text_problem(_unicode(value), multiline=True)
    if problem is not None:
        raise ValueError(TEXT_PROBLEMS[problem])
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    # Every moment the registry answers is in UTC with its offset (columns are UTCDateTime).
    if value.tzinfo is None:
        raise ValueError("a moment needs its time zone")
    return value.astimezone(dt.UTC)


# Text a database can store: no NUL character (PostgreSQL refuses it), valid Unicode.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$"), AfterValidator(_text)]
# The same rule as every form (``registry.plaintext``): no control or bidi characters; line
# breaks only in a text of several lines.
MultilineText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$"),
                          AfterValidator(_multiline_text)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]
# Quantities as the column stores them (NUMERIC(14, 3)), e.g. "950.500", in JSON as a string.
DecimalText = Annotated[
    Decimal, PlainSerializer(lambda d: format(d.quantize(Decimal("0.001")), "f"),
                             return_type=str, when_used="json")
]


def _enum(values: Any) -> dict[str, Any]:
    return {"enum": sorted(str(value) for value in values)}


class WriteModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- common


class Problem(BaseModel):
    """RFC 9457 problem details; ``errors`` maps a field to a message, ``codes`` to a code."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: dict[str, str] | None = None
    codes: dict[str, str] | None = None
    expired: bool | None = Field(None, description="401 only: true when the token expired "
                                                   "(not when it is unknown or revoked).")
    expired_at: UtcDatetime | None = Field(None, description="401 only: when the token "
                                                             "expired.")


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, le=100_000, description="Page number, from 1.")
    per_page: int = Field(50, ge=1, le=200, description="Items per page (at most 200).")


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int
    next: str | None = Field(None, description="URL of the next page, if any.")


class Ref(BaseModel):
    id: int
    name: str


# ---------------------------------------------------------------- me


class TokenInfo(BaseModel):
    name: str
    prefix: str
    scopes: list[Literal["read", "write"]]
    created_at: UtcDatetime
    expires_at: UtcDatetime = Field(
        description="When the token stops working (chosen at creation: 30, 90, 180 or 365 "
                    "days). After it, every request answers 401 with `expired: true`.")


class OrganisationRead(BaseModel):
    id: int
    name: str
    kind: str
    province_code: str | None


class MeRead(BaseModel):
    id: int
    email: str
    name: str
    role: Literal["exporter", "officer"]
    organisation: OrganisationRead
    token: TokenInfo


# ---------------------------------------------------------------- products


class ProductWrite(WriteModel):
    """A product line; PUT replaces every field."""

    name_id: Text = Field(description="Name in Indonesian.")
    name_en: Text = Field(description="Name in English.")
    category: Text = Field(json_schema_extra=_enum(Category))
    # Not an enum: 5,600 values would bloat the document; GET /hs-codes finds them.
    hs_code: Text = Field(description="Any HS 2022 subheading, six digits without dots "
                                      "(e.g. 030559); find one with GET /hs-codes.",
                          json_schema_extra={"pattern": "^[0-9]{6}$"})
    gtin: Text | None = Field(None, description="GTIN-8/12/13/14 with a valid check digit.")
    description: MultilineText = ""


class ProductRead(BaseModel):
    id: int
    name_id: str
    name_en: str
    category: str
    hs_code: str
    gtin: str | None
    description: str
    has_photo: bool
    created_at: UtcDatetime


class ProductPage(PageMeta):
    items: list[ProductRead]


class HsQuery(BaseModel):
    q: Text = Field("", max_length=200, description="A code or its beginning (0305, 0305.59) "
                    "or words in Indonesian or English (ikan kering, dried fish); empty: the "
                    "region's typical codes.")
    limit: int = Field(50, ge=1, le=200, description="At most this many codes (at most 200).")


class HsCodeRead(BaseModel):
    code: str = Field(description="Six digits, as products take it.")
    description_en: str = Field(description="UN Comtrade's English description.")
    description_id: str | None = Field(description="Indonesian, the registry's own translation "
                                                   "(not BTKI's text); null where there is "
                                                   "none.")
    typical: bool = Field(description="One of the region's usual export codes.")


class HsCodeList(BaseModel):
    total: int = Field(description="How many codes match; the first `limit` are listed.")
    items: list[HsCodeRead]


class LocodeQuery(BaseModel):
    q: Text = Field("", max_length=200, description="A UN/LOCODE (NLRTM, \"NL RTM\") or words "
                    "of a place's name or its country (rotterdam, netherlands, belanda).")
    country: Text = Field("", max_length=2, description="Only places in this country (ISO "
                          "3166 alpha-2, e.g. NL); empty: every country.")
    limit: int = Field(50, ge=1, le=200, description="At most this many places (at most 200).")


class LocodeRead(BaseModel):
    code: str = Field(description="The five-character UN/LOCODE, as shipments take it.")
    name: str = Field(description="The place's name as UNECE writes it.")
    country: str = Field(description="ISO 3166 alpha-2.")
    port: bool = Field(description="A seaport (function classifier 1).")
    airport: bool = Field(description="An airport (function classifier 4).")


class LocodeList(BaseModel):
    total: int = Field(description="How many places match; the first `limit` are listed.")
    items: list[LocodeRead]


# ---------------------------------------------------------------- batches


class BatchWrite(WriteModel):
    """A draft batch; PUT replaces every field (only drafts and rejected batches)."""

    product_id: Id
    lot_code: Text = Field(description="Up to 20 letters, digits, '-', '.' or '_'.",
                           json_schema_extra={"examples": ["LOT-2026-001"]})
    quantity: Annotated[Decimal, Field(max_digits=14, decimal_places=3, allow_inf_nan=False)]
    unit: Text = Field(json_schema_extra=_enum(Unit))
    production_date: dt.date
    best_before: dt.date | None = None
    origin_regency_code: Text = Field(json_schema_extra=_enum(regencies()))
    producer: Text
    hub: Text = Field(json_schema_extra=_enum(HUBS))
    destination_country: Text = Field(
        description="ISO 3166-1 alpha-2, not ID.",
        json_schema_extra=_enum(country_codes() - {"ID"}),
    )
    declared_value_idr: int = Field(ge=-MAX_DECLARED_VALUE, le=MAX_DECLARED_VALUE)


BatchStatus = Literal["draft", "submitted", "approved", "rejected", "suspended", "revoked"]
DisplayStatus = Literal[
    "draft", "submitted", "approved", "expired", "rejected", "suspended", "revoked"
]
assert set(get_args(BatchStatus)) == {s.value for s in Status}
assert set(get_args(DisplayStatus)) == {d.value for d in Display}


class BatchListQuery(PageQuery):
    status: DisplayStatus | None = Field(None, description="Only batches shown with this status.")


class BatchSummary(BaseModel):
    id: int
    lot_code: str
    product: Ref
    status: BatchStatus
    display_status: DisplayStatus = Field(description="Status as shown (approved past validity "
                                                      "reads as expired).")
    version: int
    quantity: DecimalText
    unit: str
    origin_regency_code: str
    origin_province_code: str
    destination_country: str
    declared_value_idr: int
    valid_until: dt.date | None
    created_at: UtcDatetime
    submitted_at: UtcDatetime | None
    decided_at: UtcDatetime | None


class BatchPage(PageMeta):
    items: list[BatchSummary]


class DocumentRead(BaseModel):
    id: int
    kind: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    is_public: bool
    uploaded_at: UtcDatetime
    # A certificate's facts (issue 18 §2); null for plain documents and scans alone.
    number: str | None = None
    issuer: str | None = None
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    form_type: str | None = None
    scheme: str | None = None


class DecisionRead(BaseModel):
    id: int
    action: str
    from_status: str
    to_status: str
    reason: str | None
    valid_until: dt.date | None
    office_id: int
    created_at: UtcDatetime


class DecisionList(BaseModel):
    status: BatchStatus
    display_status: DisplayStatus
    version: int
    valid_until: dt.date | None
    items: list[DecisionRead]


class CertificateNotice(BaseModel):
    """A certificate the administrators' rules require of the batch, which the office's
    approval will ask for (issue 18 §2)."""

    kind: str = Field(json_schema_extra=_enum(DocumentKind))
    problem: Literal["missing", "expired"] = Field(description=(
        "missing: no certificate of this kind; expired: only certificates of this kind whose "
        "expiry date is before today (WITA)."))


class BatchRead(BatchSummary):
    exporter: Ref
    production_date: dt.date
    best_before: dt.date | None
    producer: str
    hub: str
    documents: list[DocumentRead]
    decisions: list[DecisionRead]
    allowed_actions: list[str] = Field(description="Lifecycle actions possible now.")
    certificate_notices: list[CertificateNotice] = Field(description=(
        "While the batch waits for the office's approval (draft, submitted, rejected): the "
        "required certificates it lacks or holds only expired today, which the approval will "
        "refuse until they are added. Submission is not refused for them. Empty when none "
        "and once the batch is decided."))


class DocumentUpload(WriteModel):
    kind: Text = Field(json_schema_extra=_enum(DocumentKind))
    is_public: bool = Field(False, description="Show on the public verification page.")
    # The limit is the server's MAX_UPLOAD_BYTES: api.views.openapi_json writes it in.
    file: bytes = Field(description="PDF, JPEG or PNG.")
    # A certificate's facts (issue 18 §2), all optional; checked per kind (422 otherwise).
    number: Text | None = Field(None, max_length=80, description=(
        "Certificate number as printed; BPJPH halal: ID + 17 digits, BPOM: MD/ML + 12 digits."))
    issuer: Text | None = Field(None, max_length=200)
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    form_type: Text | None = Field(None, json_schema_extra=_enum(OriginForm),
                                   description="Certificates of origin: the SKA form.")
    scheme: Text | None = Field(None, json_schema_extra=_enum(OrganicScheme),
                                description="Organic certificates: the scheme.")


# ---------------------------------------------------------------- review


OfficerAction = Literal["approve", "reject", "suspend", "reinstate", "revoke"]
assert set(get_args(OfficerAction)) == {a.value for a in OFFICER_ACTIONS}

QueueStatus = Literal["submitted", "approved", "rejected", "suspended", "revoked"]


class QueueQuery(PageQuery):
    status: QueueStatus = Field("submitted", description="Which of the province's batches.")


class QueueItem(BatchSummary):
    exporter: Ref


class QueuePage(PageMeta):
    items: list[QueueItem]


class DecisionCreate(WriteModel):
    action: OfficerAction
    expected_version: int = Field(ge=0, le=MAX_ID, description="The batch version you "
                                                                  "reviewed; 409 if it changed.")
    reason: MultilineText | None = Field(None,
                                         description="Required to reject, suspend or revoke.")
    valid_until: dt.date | None = Field(None, description="Required to approve.")


# ---------------------------------------------------------------- printing


class PrintJobCreate(WriteModel):
    printer_org_id: Id
    stock: Text
    quantity: int = Field(ge=-MAX_ID, le=MAX_ID, description="Number of labels.")
    net_quantity: Text = Field(description="What one package holds, e.g. '250 g' or '1 kg'.")


class PrintJobRead(BaseModel):
    id: int
    batch_id: int
    printer: Ref
    stock: str
    quantity: int
    serial_first: int
    serial_last: int
    net_quantity: str
    downloads: int
    created_at: UtcDatetime


class PrintJobList(BaseModel):
    items: list[PrintJobRead]


class StockRead(BaseModel):
    id: str
    name: str
    labels_per_sheet: int


class PrintOptions(BaseModel):
    printers: list[Ref]
    stocks: list[StockRead]


# ---------------------------------------------------------------- shipments


class ShipmentCreate(WriteModel):
    hub: Text = Field(json_schema_extra=_enum(HUBS))
    planned_date: dt.date
    peb_number: Text = Field(description="The customs export declaration's (PEB) "
                                         "registration number: six digits.")
    peb_date: dt.date
    transport_document: Text = Field(description="Bill of lading (sea hubs) or air waybill "
                                                 "'NNN-NNNNNNNN' with its check digit "
                                                 "(Ngurah Rai).")
    containers: list[Text] = Field(default_factory=list, max_length=50,
                                   description="ISO 6346 container numbers (sea only).")
    destination_locode: Text = Field(description="UN/LOCODE of the destination port or "
                                                 "airport, in the batch's destination "
                                                 "country; find one with GET /locodes.")
    quantity: Decimal = Field(max_digits=14, decimal_places=3,
                              description="In the batch's unit; all shipments not refused "
                                          "or cancelled together at most the certified "
                                          "quantity (422 otherwise).")


class ShipmentRead(BaseModel):
    id: int
    batch_id: int
    hub: str
    planned_date: dt.date
    peb_number: str
    peb_date: dt.date
    transport_document: str
    containers: list[str]
    destination_locode: str
    quantity: DecimalText
    status: str = Field(json_schema_extra=_enum(("declared", "confirmed", "refused",
                                                  "cancelled")))
    declared_at: UtcDatetime
    decided_at: UtcDatetime | None
    passage_date: dt.date | None
    remarks: str
    refusal_reason: str | None


class ShipmentList(BaseModel):
    items: list[ShipmentRead]


class PassageDecision(WriteModel):
    decision: Literal["confirm", "refuse"]
    passage_date: dt.date | None = Field(None, description="Required to confirm: the day "
                                                           "the goods passed the hub (WITA).")
    remarks: MultilineText = Field("", max_length=1000)
    reason: MultilineText | None = Field(None, max_length=1000,
                                         description="Required to refuse.")


# ---------------------------------------------------------------- scans


class ScanFigures(BaseModel):
    batch_id: int
    total: int
    suspicious: int = Field(description="Scans whose verdict was a possible copy or "
                                        "not a genuine label.")
    first_scan_at: UtcDatetime | None
    last_scan_at: UtcDatetime | None
    by_verdict: dict[str, int]
    by_language: dict[str, int]
    by_country: dict[str, int]


# ---------------------------------------------------------------- targets

TargetProvince = Literal["51", "52", "53", "all"]
TargetMetric = Literal["value_idr", "export_volume", "batches", "active_exporters"]


class TargetQuery(BaseModel):
    year: int = Field(ge=2020, le=2100, description="The year of the targets.")
    province: TargetProvince | None = Field(
        None, description="51 Bali, 52 NTB, 53 NTT or `all` (region-wide targets); by "
                          "default the officer's own province.")


class TargetWrite(WriteModel):
    """A yearly target; one of the same year, province, metric and dimensions gets the new
    amount. Officers set their own province's, until the year ends (WITA)."""

    year: int = Field(ge=2020, le=2100)
    province: TargetProvince
    metric: TargetMetric
    amount: Annotated[Decimal, Field(gt=0, max_digits=21, decimal_places=3,
                                     allow_inf_nan=False)]
    category: Text | None = Field(None, max_length=32, json_schema_extra=_enum(Category))
    hs_chapter: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")] | None = None
    unit: Literal["kg", "l", "pcs", "head"] | None = Field(
        None, description="Volume targets only: the normalised unit (tonnes count as kg).")
    destination: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


class TargetRead(BaseModel):
    id: int
    year: int
    province: str | None = Field(description="None: a region-wide target.")
    metric: str
    category: str | None
    hs_chapter: str | None
    unit: str | None
    destination: str | None
    amount: DecimalText
    set_by: str
    set_at: UtcDatetime
    achieved: DecimalText
    share: float = Field(description="Achieved divided by the target.")
    expected_share: float = Field(description="Share expected at `measured_at`: days "
                                              "elapsed in the year over its days.")
    verdict: Literal["ahead", "on_track", "behind"] = Field(
        description="ahead: at least 10 % above the expected share; behind: more than "
                    "10 % below it; on_track in between.")
    monthly: list[DecimalText | None] = Field(
        description="Achieved by the end of each month, January first; null for months "
                    "not reached yet.")


class TargetList(BaseModel):
    year: int
    province: str | None
    measured_at: dt.date
    frozen: bool = Field(description="The year has ended: its targets can no longer change.")
    items: list[TargetRead]
