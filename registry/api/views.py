"""API v1 at ``/api/v1``: JSON over HTTP for exporters' and trade offices' own systems.

Token auth only (``Authorization: Bearer mbr_…``): the session cookie is never looked at, so
the blueprint is exempt from CSRF without opening a cross-site hole. Views are thin: they
parse (``ApiSpec.route`` does it from the models), call the same services as the web pages,
and shape the answer through the response models in ``schemas``.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app, g, request, url_for
from sqlmodel import Session

from registry.accounts import second_factor
from registry.accounts.models import Organisation, Role, User
from registry.accounts.services import organisation_of
from registry.api import schemas as s
from registry.api import tokens
from registry.api.models import ApiToken
from registry.api.openapi import ApiSpec, InputError, Scope, uploaded_filename
from registry.api.scans import scan_figures
from registry.catalog import services as catalog
from registry.catalog.certification import (
    EXPORTER_ACTIONS,
    OFFICER_ACTIONS,
    Action,
    Display,
    Status,
    allowed_actions,
)
from registry.catalog.messages import evidence_frozen
from registry.catalog.models import Batch, Document, Product, ProductFacts
from registry.catalog.rules import ANY_DOCUMENT, BatchInput, ProductInput
from registry.certificates import services as certificates
from registry.certificates.rules import CertificateInput
from registry.clock import today
from registry.db.paging import Page, Window
from registry.exceptions import Forbidden, RegistryError
from registry.files.web import file_store
from registry.plots import services as plots
from registry.printing import services as printing
from registry.printing.messages import bound_message, fit_message
from registry.printing.models import PrintJob
from registry.reference import typical_hs_codes
from registry.reference.hs_search import search as search_hs
from registry.reference.locode_search import search as search_locodes
from registry.review import services as review
from registry.review.models import Decision
from registry.shipments import services as shipments
from registry.shipments.models import Shipment
from registry.shipments.rules import ShipmentInput
from registry.targets import services as targets
from registry.web.database import get_session
from registry.web.errors import TITLES
from registry.web.extensions import csrf, limiter
from registry.web.messages import has_message, message

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

T = TypeVar("T")
REALM = 'Bearer realm="registry"'


# ---------------------------------------------------------------- auth, limits, errors


class Unauthorized(RegistryError):
    status = 401

    def __init__(self, message: str, *, error: str | None = None,
                 description: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, extra=extra)
        self.challenge = (REALM + (f', error="{error}"' if error else "")
                          + (f', error_description="{description}"' if description else ""))


class ScopeError(Forbidden):
    challenge = REALM + ', error="insufficient_scope", scope="read write"'


def _authorize(scope: Scope | None) -> None:
    if scope is None:
        return
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("send a personal API token: Authorization: Bearer mbr_…")
    try:
        found = tokens.authenticate(get_session(), secret)
    except tokens.TokenExpired as exc:
        # Said apart from an unknown token (RFC 6750's own example), so whoever runs the
        # integration knows to make a new token rather than hunt for a typo.
        raise Unauthorized(
            f"the token expired at {exc.expires_at.isoformat()}; create a new one on the "
            "account page (/account/tokens)", error="invalid_token",
            description="The access token expired",
            extra={"expired": True, "expired_at": exc.expires_at.isoformat()}) from None
    if found is None:
        raise Unauthorized("the token is unknown, revoked or its account disabled",
                           error="invalid_token")
    g.api_user, g.api_token = found
    if scope not in tokens.scopes_of(g.api_token):
        raise ScopeError("this token may only read; create a token with write access")


def _user() -> User:
    return g.api_user


def _token_key() -> str:
    """Rate-limit key: the token (hashed), or the client address without one."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-ip:" + (request.remote_addr or "unknown")


def _token_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT", "300 per minute"))


def _address_limit() -> str:
    return str(current_app.config.get("API_ADDRESS_RATE_LIMIT", "1200 per minute"))


limiter.limit(_token_limit, key_func=_token_key)(bp)
limiter.limit(_address_limit, key_func=lambda: "api-addr:" + (request.remote_addr or ""))(bp)


@bp.errorhandler(RegistryError)
def _problem(exc: RegistryError) -> Any:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(exc.status) or ("Unauthorized" if exc.status == 401 else "Error"),
        "status": exc.status,
        "detail": exc.message,
        **exc.extra,
    }
    if exc.fields:
        body["codes"] = exc.fields
        # A code with no fixed text (one whose message carries numbers) is told by the detail.
        body["errors"] = (exc.messages if isinstance(exc, InputError)
                          else {k: message(v) if has_message(v) else exc.message
                                for k, v in exc.fields.items()})
    if isinstance(exc, catalog.EvidenceMissing):
        body["missing_kinds"] = [k for k in exc.kinds if k != ANY_DOCUMENT]
    headers = {"Content-Type": "application/problem+json"}
    challenge = getattr(exc, "challenge", None)
    if challenge:
        headers["WWW-Authenticate"] = challenge
    return body, exc.status, headers


spec = ApiSpec(
    bp, title="Made in Bali–NTB–NTT export registry API", version="1.0.0",
    description=(
        "JSON API for exporters' and trade offices' own systems. Authenticate with a personal "
        "token from the account page (Authorization: Bearer mbr_…). Errors are RFC 9457 "
        "problem details; `errors` maps each invalid field to a message and `codes` to a "
        "stable code. Lists are paginated with `page` and `per_page`, and answer a `next` URL "
        "and an RFC 8288 Link header."
    ),
    authorize=_authorize,
)


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI 3.1 document of this API, generated from the routes and models."""
    document = current_app.extensions.get("api_openapi")
    if document is None:
        document = spec.document(server_url=bp.url_prefix or "/api/v1")
        # The upload limit is the server's setting (MAX_UPLOAD_BYTES), not a constant.
        upload = document["components"]["schemas"]["DocumentUpload"]["properties"]["file"]
        limit = current_app.config["MAX_UPLOAD_BYTES"]
        upload["description"] = (f"PDF, JPEG or PNG, at most {limit:,} bytes "
                                 f"({round(limit / 2**20, 1):g} MB) on this server.")
        current_app.extensions["api_openapi"] = document
    return document


# ---------------------------------------------------------------- shaping


def _window(query: s.PageQuery) -> Window:
    return Window(query.page, query.per_page)


def _paginate(page: Page[T], endpoint: str,
              **params: Any) -> tuple[list[T], dict[str, Any], dict[str, str]]:
    params = {k: v for k, v in params.items() if v is not None}
    size = page.window.size

    def link(n: int) -> str:
        return url_for(endpoint, page=n, per_page=size, **params)

    rels = {"first": 1, "last": page.last}
    if page.previous is not None:
        rels["prev"] = page.previous
    if page.next is not None:
        rels["next"] = page.next
    headers = {"Link": ", ".join(f'<{link(n)}>; rel="{rel}"' for rel, n in rels.items())}
    meta = {"page": page.number, "per_page": size, "total": page.total,
            "next": link(page.next) if page.next is not None else None}
    return page.items, meta, headers


def _product_read(product: Product) -> s.ProductRead:
    return s.ProductRead.model_validate(
        {**product.model_dump(), "has_photo": bool(product.photo_stored_name)})


def _summary_fields(batch: Batch, product: Product | ProductFacts) -> dict[str, Any]:
    if isinstance(product, Product):  # the product as the batch froze it at submission
        product = catalog.registered_product(batch, product)
    return {
        **batch.model_dump(),
        "product": {"id": product.id, "name": product.name_en},
        "display_status": catalog.display_of(batch).value,
    }


def _batch_summary(batch: Batch, product: Product | ProductFacts) -> s.BatchSummary:
    return s.BatchSummary.model_validate(_summary_fields(batch, product))


def _document_read(doc: Document) -> s.DocumentRead:
    return s.DocumentRead.model_validate(doc.model_dump())


def _decision_read(decision: Decision) -> s.DecisionRead:
    return s.DecisionRead.model_validate(decision.model_dump())


def _batch_read(db: Session, user: User, batch: Batch) -> s.BatchRead:
    product = db.get_one(Product, batch.product_id)
    exporter = db.get_one(Organisation, batch.organisation_id)
    mine = EXPORTER_ACTIONS if user.role == Role.EXPORTER else OFFICER_ACTIONS
    return s.BatchRead.model_validate({
        **_summary_fields(batch, product),
        "exporter": {"id": exporter.id, "name": exporter.name},
        "documents": [_document_read(d) for d in catalog.list_documents(db, batch)],
        "decisions": [_decision_read(d) for d, _officer in review.decisions_for(db, batch)],
        "allowed_actions": [a.value for a in allowed_actions(Status(batch.status)) if a in mine],
        "certificate_notices": _certificate_notices(db, batch),
    })


def _certificate_notices(db: Session, batch: Batch) -> list[dict[str, str]]:
    """The web page's notice before the approval, as data (a notice, not a refusal)."""
    lacking = certificates.approval_gaps(db, batch, today())
    return ([{"kind": k, "problem": "missing"} for k in lacking.missing]
            + [{"kind": k, "problem": "expired"} for k in lacking.expired])


def _job_read(job: PrintJob, printer_name: str) -> s.PrintJobRead:
    return s.PrintJobRead.model_validate(
        {**job.model_dump(), "printer": {"id": job.printer_org_id, "name": printer_name}})


def _product_input(body: s.ProductWrite) -> ProductInput:
    return ProductInput(**body.model_dump())


def _batch_input(body: s.BatchWrite) -> BatchInput:
    return BatchInput(**body.model_dump())


def _location(endpoint: str, **values: Any) -> dict[str, str]:
    return {"Location": url_for(endpoint, **values)}


# ---------------------------------------------------------------- me


@spec.route("GET", "/me", summary="Who am I", tag="account", response=s.MeRead)
def me() -> Any:
    """The token's user, organisation and scopes."""
    user, token = _user(), g.api_token
    org = organisation_of(get_session(), user)
    return s.MeRead.model_validate({
        **user.model_dump(), "organisation": org.model_dump(), "token": _token_info(token)})


def _token_info(token: ApiToken) -> dict[str, Any]:
    return {**token.model_dump(), "scopes": sorted(tokens.scopes_of(token))}


# ---------------------------------------------------------------- products


@spec.route("GET", "/products", summary="List own products", tag="products",
            query=s.PageQuery, response=s.ProductPage, links=True, roles=("exporter",))
def products_list(query: s.PageQuery) -> Any:
    rows = catalog.product_page(get_session(), _user(), _window(query))
    page, meta, headers = _paginate(rows, "api.products_list")
    return s.ProductPage(items=[_product_read(p) for p in page], **meta), headers


@spec.route("POST", "/products", summary="Register a product", tag="products",
            scope="write", body=s.ProductWrite, response=s.ProductRead, status=201,
            roles=("exporter",))
def products_create(body: s.ProductWrite) -> Any:
    product = catalog.create_product(get_session(), _user(), _product_input(body))
    return _product_read(product), _location("api.products_read", product_id=product.id)


@spec.route("GET", "/products/<int:product_id>", summary="Read a product", tag="products",
            response=s.ProductRead, conditional=True, roles=("exporter",))
def products_read(product_id: int) -> Any:
    return _product_read(catalog.get_product(get_session(), _user(), product_id))


@spec.route("PUT", "/products/<int:product_id>", summary="Replace a product", tag="products",
            scope="write", body=s.ProductWrite, response=s.ProductRead, roles=("exporter",))
def products_update(product_id: int, body: s.ProductWrite) -> Any:
    product = catalog.update_product(get_session(), _user(), product_id, _product_input(body))
    return _product_read(product)


@spec.route("GET", "/hs-codes", summary="Find HS 2022 codes", tag="products", query=s.HsQuery,
            response=s.HsCodeList)
def hs_codes(query: s.HsQuery) -> Any:
    """The HS 2022 subheadings matching a code or words, the region's typical codes first;
    with no ``q``, the typical codes."""
    if query.q.strip():
        found = search_hs(query.q, query.limit)
        total, items = found.total, found.items
    else:
        total, items = len(typical_hs_codes()), typical_hs_codes()[:query.limit]
    return s.HsCodeList(total=total, items=[
        s.HsCodeRead(code=hs.code, description_en=hs.description,
                     description_id=hs.description_id or None, typical=hs.typical)
        for hs in items])


@spec.route("GET", "/locodes", summary="Find UN/LOCODE ports and airports", tag="shipments",
            query=s.LocodeQuery, response=s.LocodeList)
def locodes(query: s.LocodeQuery) -> Any:
    """The UN/LOCODE seaports and airports matching a code, a place's name or a country
    (within ``country`` when given); with neither ``q`` nor ``country``, none."""
    found = search_locodes(query.q, query.country, query.limit)
    return s.LocodeList(total=found.total, items=[
        s.LocodeRead(code=p.code, name=p.name, country=p.country, port=p.is_port,
                     airport=p.is_airport) for p in found.items])


# ---------------------------------------------------------------- batches


@spec.route("GET", "/batches", summary="List own batches", tag="batches",
            query=s.BatchListQuery, response=s.BatchPage, links=True, roles=("exporter",))
def batches_list(query: s.BatchListQuery) -> Any:
    wanted = Display(query.status) if query.status is not None else None
    rows = catalog.batch_page(get_session(), _user(), _window(query), wanted)
    page, meta, headers = _paginate(rows, "api.batches_list", status=query.status)
    return s.BatchPage(items=[_batch_summary(b, p) for b, p in page], **meta), headers


@spec.route("POST", "/batches", summary="Register a draft batch", tag="batches",
            scope="write", body=s.BatchWrite, response=s.BatchRead, status=201,
            roles=("exporter",))
def batches_create(body: s.BatchWrite) -> Any:
    db, user = get_session(), _user()
    batch = catalog.create_batch(db, user, _batch_input(body))
    return _batch_read(db, user, batch), _location("api.batches_read", batch_id=batch.id)


@spec.route("GET", "/batches/<int:batch_id>", summary="Read a batch", tag="batches",
            response=s.BatchRead, conditional=True, roles=("exporter", "officer"))
def batches_read(batch_id: int) -> Any:
    """Exporters read their own batches; officers the submitted and decided batches of their
    province. Status, documents and decisions included."""
    db, user = get_session(), _user()
    return _batch_read(db, user, catalog.get_batch(db, user, batch_id))


@spec.route("PUT", "/batches/<int:batch_id>", summary="Replace a draft batch", tag="batches",
            scope="write", body=s.BatchWrite, response=s.BatchRead, roles=("exporter",))
def batches_update(batch_id: int, body: s.BatchWrite) -> Any:
    """Only drafts and rejected batches can be edited (409 otherwise)."""
    db, user = get_session(), _user()
    return _batch_read(db, user, catalog.update_batch(db, user, batch_id, _batch_input(body)))


@spec.route("POST", "/batches/<int:batch_id>/documents", summary="Upload evidence",
            tag="batches", scope="write", body=s.DocumentUpload, body_kind="multipart",
            response=s.DocumentRead, status=201, roles=("exporter",))
def batches_upload(batch_id: int, body: s.DocumentUpload) -> Any:
    """Evidence (PDF, JPEG or PNG): a certificate (halal, BPOM, origin, SNI, organic,
    phytosanitary, fish health) with its number, issuer and dates if given, or a lab or other
    document."""
    try:
        doc, _stored = catalog.add_document(
            get_session(), _user(), batch_id, kind=body.kind, filename=uploaded_filename("file"),
            data=body.file, is_public=body.is_public, store=file_store(),
            max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
            max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
            certificate=CertificateInput(
                number=body.number or "", issuer=body.issuer or "", issued_on=body.issued_on,
                expires_on=body.expires_on, form_type=body.form_type or "",
                scheme=body.scheme or ""),
        )
    except catalog.EvidenceFrozen as exc:
        exc.message = evidence_frozen()  # in the reader's language (Accept-Language)
        raise
    return _document_read(doc)


@spec.route("POST", "/batches/<int:batch_id>/submit", summary="Submit for certification",
            tag="batches", scope="write", response=s.BatchRead, roles=("exporter",))
def batches_submit(batch_id: int) -> Any:
    """Needs at least one evidence document, and the kinds the registry requires for the
    product's category (422 with `missing_kinds` otherwise). Required certificates that are
    missing or expired do not stop the submission: `certificate_notices` lists them, and the
    office's approval refuses the batch until they are added."""
    db, user = get_session(), _user()
    batch = catalog.submit_batch(db, user, batch_id,
                                 required_evidence=current_app.config["REQUIRED_EVIDENCE"])
    return _batch_read(db, user, batch)


@spec.route("GET", "/batches/<int:batch_id>/decisions", summary="Decisions on a batch",
            tag="batches", response=s.DecisionList, conditional=True,
            roles=("exporter", "officer"))
def batches_decisions(batch_id: int) -> Any:
    db, user = get_session(), _user()
    batch = catalog.get_batch(db, user, batch_id)
    # The column holds a Status value; pydantic checks it against the literal again.
    return s.DecisionList(status=cast(s.BatchStatus, batch.status),
                          display_status=catalog.display_of(batch).value,
                          version=batch.version, valid_until=batch.valid_until,
                          items=[_decision_read(d) for d, _o in review.decisions_for(db, batch)])


@spec.route("POST", "/batches/<int:batch_id>/decisions", summary="Decide on a batch",
            tag="review", scope="write", body=s.DecisionCreate, response=s.DecisionRead,
            status=201, roles=("officer",))
def batches_decide(batch_id: int, body: s.DecisionCreate) -> Any:
    """Approve (with `valid_until`), reject, suspend or revoke (with a `reason`), or reinstate.
    `expected_version` is the batch version you reviewed: 409 if another decision came first
    or the action is not possible in the batch's state."""
    action = Action(body.action)
    if second_factor.required_for(_user()) and not second_factor.is_enrolled(get_session(),
                                                                              _user()):
        raise Forbidden("a second factor is required: enrol an authenticator app on the "
                        "registry's web pages (Second factor) before deciding")
    decision = review.decide(
        get_session(), _user(), batch_id, action=action,
        expected_version=body.expected_version, reason=body.reason,
        valid_until=body.valid_until if action is Action.APPROVE else None,
    )
    return _decision_read(decision)


@spec.route("GET", "/review/queue", summary="Review queue of the officer's province",
            tag="review", query=s.QueueQuery, response=s.QueuePage, links=True,
            roles=("officer",))
def review_queue(query: s.QueueQuery) -> Any:
    """Submitted batches by default, oldest submission first; `status` lists the province's
    decided batches, latest decision first."""
    rows = review.queue(get_session(), _user(), (Status(query.status),), _window(query))
    page, meta, headers = _paginate(rows, "api.review_queue", status=query.status)
    items = [
        s.QueueItem.model_validate({**_summary_fields(b, p),
                                    "exporter": {"id": o.id, "name": o.name}})
        for b, p, o in page
    ]
    return s.QueuePage(items=items, **meta), headers


# ---------------------------------------------------------------- labels and scans


@spec.route("GET", "/print-options", summary="Print shops and label stocks", tag="labels",
            response=s.PrintOptions, conditional=True, roles=("exporter",))
def print_options() -> Any:
    if _user().role != Role.EXPORTER:
        raise Forbidden("only exporters order labels")
    lang = "en"
    return s.PrintOptions(
        printers=[s.Ref(id=o.id or 0, name=o.name) for o in printing.print_shops(get_session())],
        stocks=[s.StockRead(id=st.id, name=st.names.get(lang) or st.id,
                            labels_per_sheet=st.labels_per_sheet)
                for st in printing.stocks().values()],
    )


@spec.route("GET", "/batches/<int:batch_id>/print-jobs", summary="Print jobs of a batch",
            tag="labels", response=s.PrintJobList, roles=("exporter",))
def print_jobs_list(batch_id: int) -> Any:
    db, user = get_session(), _user()
    if user.role != Role.EXPORTER:
        raise Forbidden("only exporters order labels")
    batch = catalog.get_batch(db, user, batch_id)
    return s.PrintJobList(items=[_job_read(j, n)
                                 for j, n in printing.jobs_for_batch(db, user, batch)])


@spec.route("POST", "/batches/<int:batch_id>/print-jobs", summary="Order labels",
            tag="labels", scope="write", body=s.PrintJobCreate, response=s.PrintJobRead,
            status=201, roles=("exporter",))
def print_jobs_create(batch_id: int, body: s.PrintJobCreate) -> Any:
    """Only for certified batches within their validity (409 otherwise). Serials are
    allocated as one contiguous range."""
    db = get_session()
    try:
        job = printing.order_job(db, _user(), batch_id, printer_org_id=body.printer_org_id,
                                 stock=body.stock, quantity=body.quantity,
                                 net_quantity=body.net_quantity,
                                 tolerance_percent=current_app.config[
                                     "LABEL_QUANTITY_TOLERANCE_PERCENT"],
                                 host=current_app.config["PUBLIC_HOST"])
    except printing.LabelTextTooLong as exc:
        exc.message = fit_message(exc)
        raise
    except printing.LabelBoundExceeded as exc:
        # The numbers in the reader's language (Accept-Language), as the web form says them.
        exc.message = bound_message(exc)
        raise
    shop = db.get(Organisation, job.printer_org_id)
    return _job_read(job, shop.name if shop else "")


@spec.route("GET", "/batches/<int:batch_id>/scans", summary="Scan figures of a batch",
            tag="labels", response=s.ScanFigures, roles=("exporter", "officer"))
def batches_scans(batch_id: int) -> Any:
    """How often the batch's labels were scanned, where, in which language, and how many
    scans looked like a copy or a fake."""
    db, user = get_session(), _user()
    return scan_figures(db, catalog.get_batch(db, user, batch_id))


# ---------------------------------------------------------------- shipments


def _shipment_read(shipment: Shipment) -> s.ShipmentRead:
    return s.ShipmentRead.model_validate(
        {**shipment.model_dump(), "containers": shipment.container_list})


@spec.route("GET", "/batches/<int:batch_id>/shipments", summary="Shipments of a batch",
            tag="shipments", response=s.ShipmentList, roles=("exporter", "officer"))
def shipments_list(batch_id: int) -> Any:
    """The batch's shipments through the Bali hub, first declared first: its exporter's, and
    the origin province's office's to read."""
    db, user = get_session(), _user()
    batch = catalog.get_batch(db, user, batch_id)
    return s.ShipmentList(items=[_shipment_read(x) for x in shipments.for_batch(db, batch)])


@spec.route("POST", "/batches/<int:batch_id>/shipments", summary="Declare a shipment",
            tag="shipments", scope="write", body=s.ShipmentCreate, response=s.ShipmentRead,
            status=201, roles=("exporter",))
def shipments_create(batch_id: int, body: s.ShipmentCreate) -> Any:
    """Only for certified batches within their validity (409 otherwise). Container numbers
    (ISO 6346), air waybills (IATA check digit), the PEB number and the destination
    (UN/LOCODE in the batch's destination country) are checked: 422 with a code per field;
    `over_shipped` when the shipments would exceed the certified quantity."""
    shipment = shipments.declare(get_session(), _user(), batch_id, ShipmentInput(
        hub=body.hub, planned_date=body.planned_date, peb_number=body.peb_number,
        peb_date=body.peb_date, transport_document=body.transport_document,
        containers=tuple(body.containers), destination_locode=body.destination_locode,
        quantity=body.quantity))
    return _shipment_read(shipment)


@spec.route("GET", "/hub/shipments", summary="Shipments waiting for the Bali hub",
            tag="shipments", response=s.ShipmentList, roles=("officer",))
def hub_shipments() -> Any:
    """Declared shipments of every origin, oldest first: the Bali trade office's (403 for
    other offices)."""
    rows = shipments.hub_queue(get_session(), _user())
    return s.ShipmentList(items=[_shipment_read(r.shipment) for r in rows])


@spec.route("POST", "/shipments/<int:shipment_id>/passage", summary="Confirm or refuse a "
            "hub passage", tag="shipments", scope="write", body=s.PassageDecision,
            response=s.ShipmentRead, roles=("officer",))
def shipments_passage(shipment_id: int, body: s.PassageDecision) -> Any:
    """Officers of the Bali trade office only (403 otherwise), with a second factor; 409 when
    the shipment was already decided on or cancelled."""
    db, user = get_session(), _user()
    if second_factor.required_for(user) and not second_factor.is_enrolled(db, user):
        raise Forbidden("a second factor is required: enrol an authenticator app on the "
                        "registry's web pages (Second factor) before deciding")
    if body.decision == "confirm":
        shipment = shipments.confirm(db, user, shipment_id, passage_date=body.passage_date,
                                     remarks=body.remarks)
    else:
        shipment = shipments.refuse(db, user, shipment_id, reason=body.reason or "")
    return _shipment_read(shipment)


@spec.route("GET", "/batches/<int:batch_id>/plots.geojson",
            summary="Production plots as EUDR GeoJSON", tag="batches",
            roles=("exporter", "officer"),
            media=("application/geo+json", {
                "type": "object",
                "description": "A GeoJSON FeatureCollection as the EU information system "
                               "takes a due-diligence statement's geolocation; JSON Schema: "
                               "registry/plots/schemas/eudr-geolocation.schema.json."}))
def batches_plots(batch_id: int) -> Any:
    """The batch's production plots for an EU Deforestation Regulation due-diligence
    statement: one Feature a plot (Point up to 4 ha, Polygon above, MultiPolygon for a plot
    of several parcels; WGS84, longitude first),
    with ProducerName, ProducerCountry, ProductionPlace and Area (hectares). The batch's
    exporter, and the office of its origin province once submitted."""
    db, user = get_session(), _user()
    batch, found = plots.plots_for(db, user, batch_id)
    return Response(plots.dumps(plots.feature_collection(db, batch, found)),
                    mimetype="application/geo+json")


# ---------------------------------------------------------------- targets


def _target_read(item: targets.TargetProgress) -> s.TargetRead:
    t = item.target
    return s.TargetRead(
        id=t.id, year=t.year, province=t.province_code, metric=t.metric, category=t.category,
        hs_chapter=t.hs_chapter, unit=t.unit, destination=t.destination_country,
        amount=t.amount, set_by=item.set_by, set_at=t.set_at, achieved=item.achieved,
        share=float(item.assessment.share), expected_share=float(item.assessment.expected),
        verdict=cast(Any, item.assessment.verdict.value), monthly=item.monthly)


def _target_list(year: int, province: str | None) -> s.TargetList:
    progress = targets.progress(get_session(), _user(), year, province, today=today())
    return s.TargetList(year=year, province=province, measured_at=progress.at,
                        frozen=progress.frozen, items=[_target_read(i) for i in progress.items])


@spec.route("GET", "/targets", summary="Targets of a year and their progress", tag="targets",
            query=s.TargetQuery, response=s.TargetList, roles=("officer",))
def targets_list(query: s.TargetQuery) -> Any:
    """Every target of the year for a province (any of the three: the offices' figures are
    shared) or the region, with what was certified against it, month by month."""
    db, user = get_session(), _user()
    targets.check_read(user)
    province: str | None = query.province
    if province is None:
        province = organisation_of(db, user).province_code or "all"
    return _target_list(query.year, None if province == "all" else province)


@spec.route("POST", "/targets", summary="Set a target", tag="targets", scope="write",
            body=s.TargetWrite, response=s.TargetList, roles=("officer",))
def targets_set(body: s.TargetWrite) -> Any:
    """Creates the target, or changes the amount of the one with the same year, province,
    metric and dimensions; answers the year's targets with their progress. 403 for another
    province's office, 409 once the year has ended (WITA), 422 for a target the registry
    cannot measure (e.g. a volume without its commodity or unit)."""
    province = None if body.province == "all" else body.province
    targets.set_target(get_session(), _user(), targets.TargetInput(
        year=body.year, province=province, metric=body.metric, amount=body.amount,
        category=body.category, hs_chapter=body.hs_chapter, unit=body.unit,
        destination=body.destination), today=today())
    return _target_list(body.year, province)
