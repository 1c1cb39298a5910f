"""The resolver: label URIs answer a page, JSON or a linkset; keys are published.

Page and JSON requests for well-formed codes are answered in front of Flask by
``registry.verify.hotpath``; the view below answers everything else about a label URI.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from registry import files, gs1
from registry.catalog import storage
from registry.db import get_session
from registry.extensions import limiter
from registry.figures.charts import locator_map
from registry.forms import Form
from registry.i18n import VERIFY_LANGUAGES
from registry.keys import keystore
from registry.reference import regencies
from registry.verify import services
from registry.verify.attribution import attribute
from registry.verify.hotpath import LINKSET, LabelResolver, raw_uri, wanted
from registry.verify.page import label_url
from registry.verify.rules import Thresholds

bp = Blueprint("verify", __name__)

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


@bp.route("/01/<path:_rest>", methods=["GET", "HEAD"])
def resolve(_rest: str) -> Any:
    try:
        link = gs1.parse_uri(raw_uri(request.environ))
    except gs1.Gs1Error as exc:
        return _bad_code(str(exc))
    linktype = request.args.get("linkType")
    if linktype and linktype != "all":
        if linktype in ("gs1:pip", "gs1:certificationInfo", "gs1:verificationService",
                        "gs1:defaultLink"):
            return redirect(label_url(link), 303)
        abort(404)
    if linktype == "all" or wanted(request.headers.get("Accept", "")) == "linkset":
        response = Response(_linkset_json(link), mimetype=LINKSET)
        response.headers["Vary"] = "Accept, Accept-Language"
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Link"] = (f'<{label_url(link, linkType="all")}>; rel="linkset"; '
                                    f'type="{LINKSET}"')
        response.add_etag()
        return response.make_conditional(request)
    # The page and JSON come from the resolver in front of Flask; it sends a request here
    # only when it failed, and then it fails here too, through Flask's error handling.
    answer = resolver().answer(request.environ)
    if answer is None:
        abort(404)
    status, headers, body = answer
    return Response(body, status=status, headers=headers)


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
    return render_template("verify/bad_code.html", message=message,
                           languages=[]), 400


def _absolute(path: str) -> str:
    return request.host_url.rstrip("/") + path


def _linkset_json(link: gs1.DigitalLink) -> str:
    import json

    from registry.i18n import VERIFY_LANGUAGES

    page = _absolute(label_url(link))
    if keystore().verifier().verify(link).specimen:
        # A proof's code: it points to its page ("specimen — not a label") and claims no
        # certification or product information.
        return json.dumps({"linkset": [{
            "anchor": _absolute(gs1.canonical_path(link.gtin, link.lot, link.serial)),
            f"{GS1}defaultLink": [{"href": page, "title": "Specimen, not a label",
                                   "type": "text/html"}],
        }]}, separators=(",", ":"))
    entry = {
        "anchor": _absolute(gs1.canonical_path(link.gtin, link.lot, link.serial)),
        f"{GS1}defaultLink": [{"href": page, "title": "Verification", "type": "text/html"}],
        f"{GS1}verificationService": [
            {"href": page, "title": "Verify this label", "type": "text/html",
             "hreflang": list(VERIFY_LANGUAGES)},
            {"href": page, "title": "Verification result", "type": "application/json"},
        ],
        f"{GS1}certificationInfo": [{"href": page, "title": "Certification status",
                                     "type": "text/html"}],
        f"{GS1}pip": [{"href": page, "title": "Product information", "type": "text/html",
                       "hreflang": list(VERIFY_LANGUAGES)}],
    }
    return json.dumps({"linkset": [entry]}, separators=(",", ":"))


@bp.route("/.well-known/gs1resolver")
def resolver_description() -> Any:
    return jsonify({
        "name": "Made in Bali–NTB–NTT export registry",
        "resolverRoot": request.host_url.rstrip("/"),
        "supportedPrimaryKeys": ["01"],
        "supportedQualifiers": ["10", "21"],
        "supportedLinkType": [f"{GS1}{t}" for t in (
            "defaultLink", "pip", "certificationInfo", "verificationService")],
        "linkTypeDefaultCanBeLinkset": True,
        "supportedContextValuesEnumerated": [],
        "signatureKeys": url_for("verify.keys", _external=True),
    })


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
        return gs1.parse_uri(request.values.get("uri", ""))
    except gs1.Gs1Error:
        abort(400)


@bp.route("/verify/report", methods=["GET"])
def report_page() -> Any:
    link = _report_link()
    chosen = _chosen_language()
    back = label_url(link, lang=chosen)
    form = ReportForm(uri=back)
    sent = request.args.get("sent") == "1"
    return render_template("verify/report.html", form=form, back=back, sent=sent, link=link,
                           action=url_for("verify.report", lang=chosen), languages=[])


@bp.route("/verify/report", methods=["POST"])
@limiter.limit(lambda: current_app.config.get("REPORT_RATE_LIMIT", "5 per hour"))
def report() -> Any:
    form = ReportForm()
    link = _report_link()
    chosen = _chosen_language()
    back = label_url(link, lang=chosen)
    if not form.validate_on_submit():
        return render_template("verify/report.html", form=form, back=back, sent=False,
                               link=link, action=url_for("verify.report", lang=chosen),
                               languages=[]), 400
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
    data = files.file_store().get(doc.stored_name, doc.sha256)
    return send_file(io.BytesIO(data), mimetype=doc.content_type, etag=doc.sha256,
                     download_name=storage.download_name(doc.original_name), max_age=3600)


@bp.route("/verify/batches/<int:batch_id>/photo")
def photo(batch_id: int) -> Any:
    photo = services.public_photo(get_session(), batch_id)
    if photo is None:
        abort(404)
    stored_name, sha256 = photo
    data = files.file_store().get(stored_name, sha256)
    return send_file(io.BytesIO(data), mimetype=storage.content_type_of(stored_name),
                     etag=sha256 or False, max_age=3600)
