"""The resolver: label URIs answer a page, JSON or a linkset; keys are published."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from registry import gs1
from registry.catalog import storage
from registry.db import get_session
from registry.extensions import limiter
from registry.forms import Form
from registry.keys import keystore
from registry.timeutil import today, utcnow
from registry.verify import presenter, services
from registry.verify.rules import Thresholds, Verdict
from registry.verify.scanlog import ScanBuffer

bp = Blueprint("verify", __name__)

LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"


class ReportForm(Form):
    uri = HiddenField(validators=[InputRequired(), Length(max=600)])
    message = TextAreaField(validators=[InputRequired(), Length(max=4000)])
    where_bought = StringField(validators=[Optional(), Length(max=200)])
    contact = EmailField(validators=[Optional(), Email(), Length(max=254)])


def thresholds() -> Thresholds:
    cfg = current_app.config
    return Thresholds(
        distinct_clients=int(cfg.get("COPY_DISTINCT_CLIENTS", 6)),
        window=dt.timedelta(minutes=int(cfg.get("COPY_WINDOW_MINUTES", 60))),
        scans_in_window=int(cfg.get("COPY_SCANS_IN_WINDOW", 20)),
    )


def scan_buffer() -> ScanBuffer:
    buffer = current_app.extensions.get("scan_buffer")
    if buffer is None:
        buffer = ScanBuffer(current_app.extensions["engine"],
                            background=not current_app.config.get("TESTING"))
        current_app.extensions["scan_buffer"] = buffer
    return buffer


def client_hash() -> str:
    """HMAC of address and browser under a key that changes daily: countable today only."""
    day = today().isoformat()
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), day.encode(), hashlib.sha256)
    ip = request.remote_addr or ""
    agent = request.headers.get("User-Agent", "")[:200]
    return hmac.new(key.digest(), f"{ip}|{agent}".encode(), hashlib.sha256).hexdigest()[:16]


def client_country() -> str | None:
    header = current_app.config.get("COUNTRY_HEADER")  # e.g. CF-IPCountry behind a CDN
    if header and (value := request.headers.get(header, "")) and len(value) == 2:
        return value.upper()
    for value, _q in request.accept_languages:
        _, _, region = value.replace("_", "-").partition("-")
        if len(region) == 2 and region.isalpha():
            return region.upper()
    return None


def _raw_uri() -> str:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw
    query = request.query_string.decode("latin-1")
    return quote(request.path, safe="/%!&'()*+,;=:-._~") + (f"?{query}" if query else "")


def _wants() -> str:
    if request.args.get("linkType") == "all":
        return "linkset"
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/json", LINKSET])
    # HTML only when the client names it: "application/json, text/plain, */*" (what most
    # HTTP libraries send) wants JSON, though its */* would take a page too.
    named_html = max((q for value, q in accept if value == "text/html"), default=0)
    if best == LINKSET or (best == "application/json" and named_html < accept[best]):
        return "linkset" if best == LINKSET else "json"
    return "html"


def _resolve(link: gs1.DigitalLink) -> services.Resolution:
    buffer = scan_buffer()

    def pending(batch_id: int, serial: int) -> list[dict[str, Any]]:
        return buffer.pending(lambda r: r["batch_id"] == batch_id
                              and r["serial_number"] == serial)

    cache = current_app.extensions.setdefault("verify_facts", services.FactsCache())
    return services.resolve(
        get_session(), link, public_keys=keystore().public_keys(), thresholds=thresholds(),
        now=utcnow(), today=today(), client=g.client, pending=pending, url_for=url_for,
        facts_cache=cache,
    )


def _label_url(link: gs1.DigitalLink, **params: str) -> str:
    query = {"s": gs1.pack_signature(link.key_id, link.signature)} if link.signature and \
        link.key_id else {}
    query.update(params)
    path = gs1.canonical_path(link.gtin, link.lot, link.serial)
    return path + ("?" + urlencode(query) if query else "")


@bp.route("/01/<path:_rest>", methods=["GET", "HEAD"])
def resolve(_rest: str) -> Any:
    try:
        link = gs1.parse_uri(_raw_uri())
    except gs1.Gs1Error as exc:
        return _bad_code(str(exc))
    linktype = request.args.get("linkType")
    if linktype and linktype != "all":
        if linktype in ("gs1:pip", "gs1:certificationInfo", "gs1:verificationService",
                        "gs1:defaultLink"):
            return redirect(_label_url(link), 303)
        abort(404)
    g.client = client_hash()
    resolution = _resolve(link)
    language = str(get_locale())
    if _is_a_scan():
        scan_buffer().add(services.scan_row(
            resolution, now=utcnow(), language=language, country=client_country(),
            mobile="Mobi" in request.headers.get("User-Agent", ""), client=g.client))
    kind = _wants()
    etag = None
    if kind == "json":
        response = jsonify(_json(resolution))
    elif kind == "linkset":
        response = Response(_linkset_json(link), mimetype=LINKSET)
    else:
        html = render_template(
            "verify/page.html", link=link, languages=_language_links(link),
            # Plain fields, not a ReportForm: building a form reloads WTForms' catalogue on
            # every request, and this page is the registry's hottest path.
            report_uri=_label_url(link), verdict_class=_verdict_class(resolution),
            report_action=url_for("verify.report", lang=_chosen_language()),
            **presenter.page_context(resolution))
        response = Response(html)
        # The CSRF token embeds a timestamp: leave it out of the page's identity, or no two
        # requests a second apart would ever share an ETag. An older token stays valid.
        etag = hashlib.sha1(html.replace(generate_csrf(), "").encode(),
                            usedforsecurity=False).hexdigest()
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Link"] = f'<{_label_url(link, linkType="all")}>; rel="linkset"; ' \
                               f'type="{LINKSET}"'
    if etag:
        response.set_etag(etag)
    else:
        response.add_etag()
    return response.make_conditional(request)


# Link previews fetch the page when a buyer shares it in a chat: not a package in a hand, and
# counting them would make a shared genuine label look copied.
PREVIEW_AGENTS = ("facebookexternalhit", "whatsapp", "telegrambot", "slackbot", "twitterbot",
                  "discordbot", "linkedinbot", "skypeuripreview", "googlebot", "bingbot",
                  "applebot", "line-poker", "kakaotalk-scrap")


def _is_a_scan() -> bool:
    if request.method != "GET":
        return False
    agent = request.headers.get("User-Agent", "").lower()
    return not any(bot in agent for bot in PREVIEW_AGENTS)


def _chosen_language() -> str | None:
    """The language picked in the URL (``?lang=``), which links and redirects keep."""
    from registry.i18n import VERIFY_LANGUAGES

    asked = request.args.get("lang")
    return asked if asked in VERIFY_LANGUAGES else None


def _verdict_class(resolution: services.Resolution) -> str:
    return {
        Verdict.GENUINE: "ok", Verdict.SUSPENDED: "warn", Verdict.EXPIRED: "warn",
        Verdict.REVOKED: "bad", Verdict.NOT_GENUINE: "bad", Verdict.POSSIBLE_COPY: "bad",
    }[resolution.verdict]


def _language_links(link: gs1.DigitalLink) -> list[tuple[str, str, str]]:
    from registry.i18n import LANGUAGE_NAMES, VERIFY_LANGUAGES

    return [(code, LANGUAGE_NAMES[code], _label_url(link, lang=code)) for code in VERIFY_LANGUAGES]


def _bad_code(problem: str) -> Any:
    message = _("This is not a label code of the Made in Bali–NTB–NTT registry.")
    if _wants() != "html":
        body = {"type": "about:blank", "title": "Not a registry label code", "status": 400,
                "detail": problem}
        return jsonify(body), 400, {"Content-Type": "application/problem+json"}
    return render_template("verify/bad_code.html", message=message,
                           languages=[]), 400


def _json(r: services.Resolution) -> dict[str, Any]:
    link = r.link
    return {
        "verdict": r.verdict.value,
        "signals": [s.value for s in r.signals],
        "label": {"gtin": link.gtin, "lot": link.lot, "serial": link.serial,
                  "key_id": link.key_id, "signature": r.signature.value},
        "batch": r.public.model_dump(mode="json") if r.public else None,
        "links": {"page": _absolute(_label_url(link)),
                  "linkset": _absolute(_label_url(link, linkType="all")),
                  "keys": url_for("verify.keys", _external=True)},
    }


def _absolute(path: str) -> str:
    return request.host_url.rstrip("/") + path


def _linkset_json(link: gs1.DigitalLink) -> str:
    import json

    from registry.i18n import VERIFY_LANGUAGES

    page = _absolute(_label_url(link))
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


@bp.route("/.well-known/registry-keys.json")
def keys() -> Any:
    response = jsonify({"keys": keystore().public_keys(),
                        "canonical_form": "/01/{gtin14}/10/{lot}/21/{serial}",
                        "signature_parameter": "s = base64url(key_id[8] || ed25519_sig[64])"})
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/verify/report", methods=["POST"])
@limiter.limit(lambda: current_app.config.get("REPORT_RATE_LIMIT", "5 per hour"))
def report() -> Any:
    form = ReportForm()
    try:
        link = gs1.parse_uri(form.uri.data or "")
    except gs1.Gs1Error:
        abort(400)
    if not form.validate_on_submit():
        flash(_("Please describe what looks wrong (at most 4,000 characters)."), "error")
        return redirect(_back_to(link) + "#report", 303)
    g.client = client_hash()
    resolution = _resolve(link)
    services.report_fake(get_session(), resolution, message=form.message.data or "",
                         contact=form.contact.data, where_bought=form.where_bought.data,
                         language=str(get_locale()), client=g.client)
    flash(_("Thank you. Your report was sent to the exporter and the trade office."), "success")
    return redirect(_back_to(link), 303)


def _back_to(link: gs1.DigitalLink) -> str:
    chosen = _chosen_language()
    return _label_url(link, lang=chosen) if chosen else _label_url(link)


@bp.route("/verify/documents/<int:document_id>")
def document(document_id: int) -> Any:
    doc = services.public_document(get_session(), document_id)
    if doc is None:
        abort(404)
    path = storage.path_of(Path(current_app.config["UPLOAD_DIR"]), doc.stored_name)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=doc.content_type, download_name=doc.original_name,
                     max_age=3600)


@bp.route("/verify/products/<int:product_id>/photo")
def photo(product_id: int) -> Any:
    product = services.public_photo(get_session(), product_id)
    if product is None or not product.photo_stored_name:
        abort(404)
    path = storage.path_of(Path(current_app.config["UPLOAD_DIR"]), product.photo_stored_name)
    if not path.exists():
        abort(404)
    return send_file(path, max_age=3600)
