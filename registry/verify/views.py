"""The resolver: label URIs answer a page, JSON or a linkset; keys are published.

Page and JSON requests for well-formed codes are answered in front of Flask by
``registry.verify.hotpath``; the view below answers everything else about a label URI.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.routing import BaseConverter
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from registry.catalog import storage
from registry.catalog.certification import Display
from registry.catalog.vocabulary import category_label, document_kind_label, status_label
from registry.clock import today
from registry.db.paging import window_from
from registry.files.web import file_store
from registry.gs1 import compression
from registry.gs1 import digital_link as gs1
from registry.reference import regencies
from registry.reference.maps import locator_map
from registry.signing.keys import keystore
from registry.verify import epcis as epcis_events
from registry.verify import resolver as resolver_module
from registry.verify import services, walkup
from registry.verify.attribution import attribute
from registry.verify.hotpath import LabelResolver, raw_uri, request_path
from registry.verify.negotiation import LINKSET, wanted
from registry.verify.page import VerifyPages, label_url, stages
from registry.verify.resolver import PAGE_PREFIX, describe, label_uri_of
from registry.verify.rules import Thresholds
from registry.web.database import get_session
from registry.web.extensions import limiter
from registry.web.forms import Form
from registry.web.i18n import VERIFY_LANGUAGES

bp = Blueprint("verify", __name__)


class CompressedConverter(BaseConverter):
    """One path segment that may be a compressed GS1 Digital Link URI: base64url characters,
    at least as many as the shortest one with a GTIN has (AI 01 and 14 digits: 55 bits, 10
    characters). Werkzeug tries every rule with a static path first, so ``/login`` or
    ``/healthz`` never reach it; the length keeps short words such as ``/logout`` (POST only)
    answering 405 rather than 404."""

    regex = r"[A-Za-z0-9_-]{10,}"


# Before the rules below are added (a blueprint runs its deferred functions in order).
def _add_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("compressed", CompressedConverter)


bp.record_once(_add_converter)

GS1 = "https://gs1.org/voc/"
VECTORS = Path(__file__).with_name("label-vectors.json")


class ReportForm(Form):
    uri = HiddenField(validators=[InputRequired(), Length(max=600)])
    message = TextAreaField(validators=[InputRequired(), Length(max=4000)])
    where_bought = StringField(validators=[Optional(), Length(max=200)])
    contact = EmailField(validators=[Optional(), Email(), Length(max=254)])


def resolver() -> LabelResolver:
    return current_app.extensions["label_resolver"]


def thresholds() -> Thresholds:
    """When a serial looks copied (``COPY_*`` settings), as the resolver applies them."""
    return resolver().thresholds


@bp.route("/01/<path:_rest>", methods=["GET", "HEAD", "OPTIONS"])
def resolve(_rest: str) -> Any:
    """The GS1 resolver (registry.verify.resolver). Answered in front of Flask by the label
    resolver, except a malformed code asked for by a person (the page below) or when that
    failed, through Flask's error handling."""
    status, headers, body = resolver().resolve_uri(request.environ)
    if status.startswith("400") and wanted(request.headers.get("Accept", "")) == "html":
        page, code = _bad_code(json.loads(body)["detail"])
        response = Response(page, status=code)
        response.headers.extend(resolver_module.CORS)
        return response
    return Response(body, status=status, headers=headers)


@bp.route("/<compressed:segment>", methods=["GET", "HEAD", "OPTIONS"])
def compressed(segment: str) -> Any:
    """A compressed GS1 Digital Link URI (``/{segment}``, GS1's compression): answered as its
    uncompressed URI is, with that URI in a ``Link: <…>; rel="owl:sameAs"`` header. Anything
    that is not one with a GTIN is an unknown path: 404, the same page or problem+json."""
    try:
        uncompressed = compression.decompress(segment)
        parts = urlsplit(uncompressed)
        gs1.parse_path(parts.path)
    except gs1.Gs1Error:  # CompressionError is one
        abort(404)
    base = resolver().base()
    # The compressed query's pairs, then the request's own (``?linkType=linkset``, ``?s=``).
    pairs = [*parse_qsl(parts.query, keep_blank_values=True),
             *parse_qsl(request.environ.get("QUERY_STRING", ""), keep_blank_values=True)]
    status, headers, body = resolver_module.answer(
        request.method, parts.path, pairs, request.headers.get("Accept", ""), base,
        same_as=base + uncompressed)
    response = Response(body, status=status, headers=headers)
    if not any(name == "Content-Type" for name, _value in headers):
        del response.headers["Content-Type"]  # a redirect's, as the uncompressed URI's has none
    return response


@bp.route("/verify/01/<path:_rest>", methods=["GET", "HEAD"])
def page(_rest: str) -> Any:
    """The resolver's targets: a label's verification page (answered in front of Flask, which
    sends it here only when it failed), a lot's page and a product's page (the walk-up)."""
    path = request_path(request.environ).removeprefix(PAGE_PREFIX)
    try:
        ident = gs1.parse_path(path)
    except gs1.Gs1Error as exc:
        return _bad_code(str(exc))
    if ident.label:
        try:
            gs1.parse_uri(raw_uri(request.environ, strip=PAGE_PREFIX))
        except gs1.Gs1Error as exc:
            return _bad_code(str(exc))
        answer = resolver().answer(request.environ)
        if answer is None:
            abort(404)
        status, headers, body = answer
        return Response(body, status=status, headers=headers)
    if ident.lot is not None:
        return _lot_page(ident.gtin, ident.lot)
    return _product_page(ident.gtin)


@bp.route("/epcis/01/<path:_rest>", methods=["GET", "HEAD", "OPTIONS"])
def epcis(_rest: str) -> Any:
    """A decided lot's journey as GS1 EPCIS 2.0 JSON-LD (``registry.verify.epcis``), linked
    from the lot's linkset as ``gs1:epcis``; identifiers on ``PUBLIC_HOST``, never the
    request's Host."""
    path = request_path(request.environ).removeprefix("/epcis")
    try:
        ident = gs1.parse_path(path)
    except gs1.Gs1Error as exc:
        return _problem(400, "Not a lot of a GTIN", str(exc))
    if ident.lot is None or ident.label:
        return _problem(400, "Not a lot of a GTIN", "EPCIS events are kept per lot: "
                        "/epcis/01/{gtin}/10/{lot}")
    document = epcis_events.lot_document(get_session(), ident.gtin, ident.lot,
                                         base=resolver().base())
    if document is None:
        return _problem(404, "No decided lot", "The registry has no certified lot with this "
                        "GTIN and lot code.")
    response = Response(json.dumps(document, separators=(",", ":")),
                        mimetype="application/ld+json")
    response.headers.extend(resolver_module.CORS)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _problem(status: int, title: str, detail: str) -> Any:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    response.headers.extend(resolver_module.CORS)
    return response


def pages() -> VerifyPages:
    return resolver().pages


def _language() -> str:
    """The request's language, if one of the verification pages' four; English otherwise."""
    lang = str(get_locale())
    return lang if lang in VERIFY_LANGUAGES else "en"


def _render(template: str, *, own: str | None, **context: Any) -> str:
    """A verification-family page in the request's language (one of the four), through the
    same renderer as the label's page."""
    return pages().render(template, _language(), own=own, **context)


def _walkup_response(template: str, code: int, own: str | None = None,
                     **context: Any) -> Any:
    """``own``: the page's path and query its language links extend (its path by default)."""
    path = request_path(request.environ)
    response = Response(_render(template, own=own or path, **context), status=code)
    response.headers["Vary"] = "Accept-Language"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    base = resolver().base()
    linkset = f"{base}{path}?linkType=linkset".replace(f"{base}{PAGE_PREFIX}", base)
    response.headers["Link"] = f'<{linkset}>; rel="linkset"; type="{LINKSET}"'
    return response


# A lot's page wears its certification's colour, as the label page wears its verdict's.
LOT_VERDICT_CLASS = {Display.APPROVED: "ok", Display.SUSPENDED: "warn", Display.EXPIRED: "warn"}


def _lot_page(gtin: str, lot: str) -> Any:
    facts = walkup.lot_public(get_session(), gtin, lot, today())
    if facts is None:
        return _walkup_response("verify/walkup_missing.html", 404, gtin=gtin, lot=lot)
    return _walkup_response(
        "verify/lot.html", 200, facts=facts, certification=status_label(facts.lot.status),
        product_html=Markup("<bdi>{}</bdi>").format(facts.name_en),
        verdict_class=LOT_VERDICT_CLASS.get(facts.lot.status, "bad"),
        category=category_label(facts.category),
        photo=url_for("verify.photo", batch_id=facts.lot.batch_id) if facts.has_photo
        else None,
        documents=[(url_for("verify.document", document_id=d.id),
                    document_kind_label(d.kind), d.name) for d in facts.documents],
        claims=pages().claims(_language(), [(d.kind, d.certificate) for d in facts.documents
                                            if d.certificate is not None],
                              facts.certifying_office, facts.certified_on),
        product_url=f"{PAGE_PREFIX}{gs1.gtin_path(gtin)}",
        journey=stages(facts.journey, pages().language(_language()).words))


def _product_page(gtin: str) -> Any:
    window = window_from(request.args.get("page"), walkup.LOTS_PER_PAGE)
    facts = walkup.product_public(get_session(), gtin, today(), window)
    if facts is None:
        return _walkup_response("verify/walkup_missing.html", 404, gtin=gtin, lot=None)
    page = facts.lots
    # Each status's words once, not once a lot (a lazy string asks Flask-Babel each time).
    words = {status: status_label(status) for status in {row.status for row in page.items}}
    lots = [(f"{PAGE_PREFIX}{gs1.lot_path(gtin, row.lot)}", row, words[row.status])
            for row in page.items]
    # A title holds no markup: the name is isolated with Unicode's first-strong isolate, so a
    # right-to-left override in it cannot reverse the site's name after it.
    own = _page_link(page.number, keep_language=False)
    return _walkup_response("verify/product.html", 200, own=own, facts=facts, lots=lots,
                            page=page,
                            newer=_page_link(page.previous), older=_page_link(page.next),
                            title=f"\u2068{facts.name_en}\u2069",
                            category=category_label(facts.category))


def _page_link(number: int | None, *, keep_language: bool = True) -> str | None:
    """This page's path at page ``number`` of its list (None: no such page), keeping the
    language picked in the URL unless told not to (the language links add their own); page
    1 is the path alone."""
    if number is None:
        return None
    query = [("page", str(number))] if number > 1 else []
    if keep_language and (lang := _chosen_language()):
        query.append(("lang", lang))
    path = request_path(request.environ)
    return f"{path}?{urlencode(query)}" if query else path


def _chosen_language() -> str | None:
    """The language picked in the URL (``?lang=``), which links and redirects keep."""
    asked = request.args.get("lang")
    return asked if asked in VERIFY_LANGUAGES else None


def _bad_code(problem: str) -> Any:
    message = _("This is not a label code of the Made in Bali–NTB–NTT registry.")
    if wanted(request.headers.get("Accept", "")) != "html":
        body = {"type": "about:blank", "title": "Not a registry label code", "status": 400,
                "detail": problem}
        return jsonify(body), 400, {"Content-Type": "application/problem+json"}
    return _render("verify/bad_code.html", own=None, message=message), 400


@bp.route("/.well-known/gs1resolver", methods=["GET", "HEAD", "OPTIONS"])
def resolver_description() -> Any:
    """The resolver description file (GS1-Conformant Resolver standard §, valid against
    GS1's schema), on ``PUBLIC_HOST`` whatever Host the request named."""
    response = jsonify(describe(resolver().base()))
    response.headers.extend(resolver_module.CORS)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _published(response: Response) -> Response:
    """Public documents any verifier may fetch from anywhere and keep for five minutes."""
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/registry-keys.json")
def keys() -> Any:
    return _published(jsonify({
        "keys": keystore().public_keys(),
        "canonical_form": "/01/{gtin14}/10/{lot}/21/{serial}",
        "signature_parameter": "s = base64url(key_id[8] || ed25519_sig[64])"}))


@bp.route("/.well-known/jwks.json")
def jwks() -> Any:
    """The keys that verify, as a JWK Set (RFC 7517; OKP/Ed25519 per RFC 8037)."""
    response = jsonify(keystore().jwks())
    response.mimetype = "application/jwk-set+json"
    return _published(response)


@bp.route("/.well-known/label-vectors.json")
def label_vectors() -> Any:
    """The published test vectors for offline verifiers (made by tests/vectors/make_vectors.py)."""
    response = send_file(VECTORS, mimetype="application/json", max_age=300)
    return _published(response)


def _report_link() -> gs1.DigitalLink:
    """The label a report is about, from the form or the query string; 400 if malformed."""
    try:
        return gs1.parse_uri(label_uri_of(request.values.get("uri", "")))
    except gs1.Gs1Error:
        abort(400)


@bp.route("/verify/report", methods=["GET"])
def report_page() -> Any:
    link = _report_link()
    chosen = _chosen_language()
    back = PAGE_PREFIX + label_url(link, lang=chosen)
    form = ReportForm(uri=back)
    sent = request.args.get("sent") == "1"
    return _render("verify/report.html", own=None, form=form, back=back, sent=sent, link=link,
                   action=url_for("verify.report", lang=chosen))


@bp.route("/verify/report", methods=["POST"])
@limiter.limit(lambda: current_app.config.get("REPORT_RATE_LIMIT", "5 per hour"))
def report() -> Any:
    form = ReportForm()
    link = _report_link()
    chosen = _chosen_language()
    back = PAGE_PREFIX + label_url(link, lang=chosen)
    if not form.validate_on_submit():
        return _render("verify/report.html", own=None, form=form, back=back, sent=False,
                       link=link, action=url_for("verify.report", lang=chosen)), 400
    hot = resolver()
    client = hot.client_hash(request.remote_addr or "")
    connection = get_session().connection().connection.driver_connection
    resolution = hot.resolve(link, client, connection)
    # Every report is attributed (the batch's too): the desk reads reports by attribution.
    attribution = attribute(connection, link, [s.value for s in resolution.signals])
    if resolution.batch is not None:  # the batch's own office; its verdict says the rest
        attribution = replace(attribution, province_code=resolution.batch.origin_province_code,
                              kind=None)
    services.report_fake(get_session(), resolution, message=form.message.data or "",
                         contact=form.contact.data, where_bought=form.where_bought.data,
                         language=str(get_locale()), client=client, attribution=attribution)
    query = urlencode({k: v for k, v in (("uri", back), ("lang", chosen), ("sent", "1")) if v})
    return redirect(f"{url_for('verify.report_page')}?{query}", 303)


@bp.route("/verify/maps/<code>.svg")
def origin_map(code: str) -> Any:
    """The locator map of one regency: an image of its own, so browsers keep it across
    scans and the verification page stays a few kilobytes."""
    if code not in regencies():
        abort(404)
    response = Response(locator_map(code), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/verify/documents/<int:document_id>")
def document(document_id: int) -> Any:
    doc = services.public_document(get_session(), document_id)
    if doc is None:
        abort(404)
    data = file_store().get(doc.stored_name, doc.sha256)
    return send_file(io.BytesIO(data), mimetype=doc.content_type, etag=doc.sha256,
                     download_name=storage.download_name(doc.original_name), max_age=3600)


@bp.route("/verify/batches/<int:batch_id>/photo")
def photo(batch_id: int) -> Any:
    photo = services.public_photo(get_session(), batch_id)
    if photo is None:
        abort(404)
    stored_name, sha256 = photo
    data = file_store().get(stored_name, sha256)
    return send_file(io.BytesIO(data), mimetype=storage.content_type_of(stored_name),
                     etag=sha256 or False, max_age=3600)
