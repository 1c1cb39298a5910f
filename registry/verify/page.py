"""Every verification-family page (a label's verdict, a lot, a product, a bad code, the fake
report, "unavailable") through one renderer: Jinja templates under ``templates/verify/``
extending ``verify/_layout.html``, autoescaped, in one of the page's four languages.

The renderer needs no request context, so the label's page can be made in front of Flask
(``hotpath``) and the walk-up pages inside it by the same code. The templates get their
language from here, never from Flask-Babel's request locale: ``_()`` in them is this
language's catalogue (``gettext`` in the render context outranks the environment's), and
dates and quantities are formatted by the functions passed with it. Words the label's page
needs on every scan (headlines, signals, sentences, unit and document names) are looked up
once per language (``Words``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask import Flask
from flask_babel import force_locale, get_translations
from flask_babel import gettext as _
from jinja2 import Template
from markupsafe import Markup

from registry.catalog.vocabulary import DOCUMENT_LABELS, UNIT_LABELS
from registry.certificates.vocabulary import ORGANIC_SCHEME_LABELS, ORIGIN_FORM_LABELS
from registry.gs1 import digital_link as gs1
from registry.reference.maps import map_shapes
from registry.verify.public import CertificatePublic, JourneyStep
from registry.verify.resolver import PAGE_PREFIX
from registry.verify.rules import Signal, Verdict
from registry.verify.services import Resolution
from registry.verify.vocabulary import VERDICT_LABELS
from registry.web.i18n import LANGUAGE_NAMES, VERIFY_LANGUAGES
from registry.web.templating import country_name, hs_markup

SYMBOLS = {Verdict.GENUINE: "✓", Verdict.SUSPENDED: "!", Verdict.EXPIRED: "!",
           Verdict.REVOKED: "✗", Verdict.NOT_GENUINE: "✗", Verdict.POSSIBLE_COPY: "⚠",
           Verdict.SPECIMEN: "✗"}
VERDICT_CLASS = {Verdict.GENUINE: "ok", Verdict.SUSPENDED: "warn", Verdict.EXPIRED: "warn",
                 Verdict.REVOKED: "bad", Verdict.NOT_GENUINE: "bad", Verdict.POSSIBLE_COPY: "bad",
                 Verdict.SPECIMEN: "bad"}


def _signals() -> dict[Signal, str]:
    return {
        Signal.BAD_SIGNATURE: _("The code's digital signature does not match: the code was "
                                "changed or made up."),
        Signal.UNKNOWN_KEY: _("The code was not signed with a key of the registry."),
        Signal.REVOKED_KEY: _("The code was signed with a key that the registry has "
                              "withdrawn."),
        Signal.UNKNOWN_CODE: _("The registry knows no product or batch with this code."),
        Signal.NEVER_PRINTED: _("The registry never printed a label with this serial "
                                "number."),
        Signal.NOT_CERTIFIED: _("This batch was never certified."),
        Signal.SPECIMEN: _("This code comes from a proof or preview sheet marked SPECIMEN. "
                           "It is not a label and says nothing about any package. If it is "
                           "on a package, do not trust that package."),
    }


def _messages() -> dict[str, str]:
    """Row labels, and sentences whose placeholder is filled once the value is known."""
    return {
        "genuine": _("This label was issued by the registry and the batch is certified "
                     "until %(date)s."),
        "suspended": _("The trade office has suspended the certification of this batch. "
                       "Do not rely on it until it is reinstated."),
        "revoked": _("The trade office has revoked the certification of this batch."),
        "expired": _("The certification of this batch ended on %(date)s."),
        "reason": _("Reason: %(reason)s"),
        "copy": _("This code is genuine, but it has been scanned by many different people or "
                  "far more often than one package could be. The label on your package may be "
                  "a copy."),
        "compare": _("Compare the details below with your package and report it if anything "
                     "differs."),
        "origin_caption": _("Origin: %(place)s"),
        "origin": _("Origin"),
        "producer": _("Producer"),
        "production_date": _("Harvest or production date"),
        "best_before": _("Best before"),
        "lot": _("Lot code"),
        "quantity": _("Batch quantity"),
        "exporter": _("Exporter"),
        "hub": _("Exported through"),
        "destination": _("Destination"),
        "office": _("Certified by"),
        "certified_on": _("Certified on"),
        "valid_until": _("Valid until"),
        # A certificate as a claim (issue 18 §2): "Halal certificate, BPJPH ID…, valid until
        # …, checked by the NTB trade office on …".
        "claim": _("%(kind)s, %(issuer)s %(number)s"),
        "claim_until": _("%(kind)s, %(issuer)s %(number)s, valid until %(date)s"),
        "claim_checked": _("checked by %(office)s on %(date)s"),
        "produced_step": _("Harvested or produced in %(place)s"),
        "certified_step": _("Certified by %(office)s"),
        "hub_step": _("Passed the Bali hub: %(hub)s"),
        "shipped_step": _("Shipped to %(port)s, %(country)s"),
        "eudr": _("EU due diligence"),
        "eudr_on_record": _("Plot geolocation is on record for EU due diligence."),
    }


@dataclass(frozen=True)
class Words:
    """One language's words for the label's page, looked up once (plain text: the template
    escapes them, and the values put into the sentences)."""

    lang: str
    headline: dict[Verdict, str]
    signal: dict[Signal, str]
    message: dict[str, str]
    unit: dict[str, str]
    document: dict[str, str]
    unavailable: str
    detail: dict[str, str] = field(default_factory=dict)  # origin forms, organic schemes


def isolate(text: str) -> str:
    """Exporter-entered text inside a sentence or a title: wrapped in Unicode's first-strong
    isolate, so a right-to-left override in it cannot reverse the words around it (where
    markup is possible the templates use ``<bdi>`` instead)."""
    return f"\u2068{text}\u2069"


@lru_cache(maxsize=8192)
def fmt_date(value: dt.date | None, lang: str) -> str:
    """A date in the reader's locale (cached: a registry has few distinct dates)."""
    return "—" if value is None else format_date(value, "medium", locale=lang)


@lru_cache(maxsize=8)
def _separators(lang: str) -> dict[int, str] | None:
    """``str.translate`` table from Python's ``,`` and ``.`` to ``lang``'s group and decimal
    symbols, when ``lang`` writes decimals as ``#,##0.###`` (all four of the page's
    languages do); ``None`` sends other patterns to babel."""
    if Locale.parse(lang).decimal_formats[None].pattern != "#,##0.###":
        return None
    return str.maketrans({",": get_group_symbol(locale=lang),
                          ".": get_decimal_symbol(locale=lang)})


def _decimal(quantity: str | Decimal, lang: str) -> str:
    """``format_decimal`` of ``quantity``, quicker: every batch has its own quantity, so a
    cache rarely hits, and babel's formatter took 8 µs a call against 2 µs for Python's own
    grouping with the locale's symbols (20,000 random quantities, process time). Tests check
    the two agree in every verification language."""
    value = Decimal(quantity).normalize()
    table = _separators(lang)
    exponent = value.as_tuple().exponent
    if table is None or not isinstance(exponent, int) or exponent < -3:
        return format_decimal(value, locale=lang)  # more than the pattern's three decimals
    return f"{value:,f}".translate(table)


def fmt_quantity(quantity: str | Decimal, unit: str, words: Words) -> str:
    """A quantity in the reader's locale with its unit's name in the reader's language."""
    return f"{_decimal(quantity, words.lang)} {words.unit.get(unit) or unit}"


def label_url(link: gs1.DigitalLink, **params: str | None) -> str:
    """The label's own URI (path and query), keeping its signature, with ``params`` added
    (those given as ``None`` are left out)."""
    packed = link.signature_field
    parts = [f"s={packed}"] if packed else []
    parts += [f"{key}={value}" for key, value in params.items()
              if value is not None]  # only ASCII codes are passed
    return link.canonical + ("?" + "&".join(parts) if parts else "")


# -- the label's page: what it shows, decided here, laid out by verify/label.html ---------------


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str
    entered: bool = False  # exporter-entered text: isolated (``<bdi>``) on the page


@dataclass(frozen=True, slots=True)
class ProductView:
    name: str
    photo_url: str | None
    rows: list[Row]
    map_url: str
    map_height: int
    caption: str
    documents: list[tuple[str, str]]  # (url, kind's name)
    claims: list[Claim]
    journey: list[Stage]


@dataclass(frozen=True, slots=True)
class Claim:
    """A public certificate as a buyer reads it, with where to check it."""

    text: str
    detail: str | None
    checked: str | None
    check_url: str | None


def claims(certificates: list[tuple[str, CertificatePublic]], office: str | None,
           certified_on: dt.date | None, words: Words) -> list[Claim]:
    """A batch's public certificates (kind, facts), each a sentence; "checked by" the office
    that certified the batch, on the day it did (it reviewed the certificates then)."""
    say, lang = words.message, words.lang
    checked = (say["claim_checked"] % {"office": isolate(office),
                                       "date": fmt_date(certified_on, lang)}
               if office and certified_on else None)
    out = []
    for kind, cert in certificates:
        values = {"kind": words.document.get(kind) or kind,
                  "issuer": isolate(cert.issuer), "number": cert.number}
        text = (say["claim_until"] % {**values, "date": fmt_date(cert.expires_on, lang)}
                if cert.expires_on else say["claim"] % values)
        detail = words.detail.get(cert.form_type or cert.scheme or "")
        out.append(Claim(text, detail, checked, cert.check_url))
    return out


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of the timeline: what happened, and when (in the reader's locale, and ISO
    for ``<time datetime>``) if the step has a day."""

    text: str
    when: str | None
    iso: str | None


@dataclass(frozen=True, slots=True)
class LabelView:
    headline: str
    verdict_class: str
    symbol: str
    explanation: list[str]
    product: ProductView | None
    serial: str
    lot: str
    gtin: str
    report_url: str


def explanation(r: Resolution, words: Words) -> list[str]:
    """The verdict's sentences."""
    facts, say, lang = r.public, words.message, words.lang
    lines: list[str] = []
    if r.verdict is Verdict.GENUINE and facts:
        lines.append(say["genuine"] % {"date": fmt_date(facts.valid_until, lang)})
    elif r.verdict is Verdict.SUSPENDED:
        lines.append(say["suspended"])
        if facts and facts.suspension_reason:
            lines.append(say["reason"] % {"reason": isolate(facts.suspension_reason)})
    elif r.verdict is Verdict.REVOKED:
        lines.append(say["revoked"])
        if facts and facts.revocation_reason:
            lines.append(say["reason"] % {"reason": isolate(facts.revocation_reason)})
    elif r.verdict is Verdict.EXPIRED and facts:
        lines.append(say["expired"] % {"date": fmt_date(facts.valid_until, lang)})
    elif r.verdict is Verdict.POSSIBLE_COPY:
        lines += [say["copy"], say["compare"]]
    lines += [words.signal[s] for s in r.signals if s in words.signal]
    return lines


def rows(r: Resolution, words: Words) -> list[Row]:
    """The product's facts, in the page's order."""
    facts, say, lang = r.public, words.message, words.lang
    if facts is None:
        return []
    out = [
        Row(say["origin"], f"{facts.origin_regency}, {facts.origin_province}"),
        Row(say["producer"], facts.producer, entered=True),
        Row(say["production_date"], fmt_date(facts.production_date, lang)),
    ]
    if facts.best_before:
        out.append(Row(say["best_before"], fmt_date(facts.best_before, lang)))
    out += [
        Row(say["lot"], facts.lot),
        Row(say["quantity"], fmt_quantity(facts.quantity, facts.unit, words)),
        Row(say["exporter"], facts.exporter, entered=True),
        Row(say["hub"], facts.hub),
        Row(say["destination"], country_name(facts.destination_country, lang)),
    ]
    if facts.certifying_office:
        out.append(Row(say["office"], facts.certifying_office))
    if facts.certified_on:
        out.append(Row(say["certified_on"], fmt_date(facts.certified_on, lang)))
    if facts.valid_until:
        out.append(Row(say["valid_until"], fmt_date(facts.valid_until, lang)))
    if facts.plot_geolocation_on_record:
        out.append(Row(say["eudr"], say["eudr_on_record"]))
    return out


def journey(r: Resolution, words: Words) -> list[Stage]:
    """The batch's journey as the timeline says it (``public.JourneyStep``)."""
    return stages(r.public.journey, words) if r.public else []


def stages(steps: list[JourneyStep], words: Words) -> list[Stage]:
    """Journey steps in the reader's words (the label's page and the lot's page)."""
    say, lang = words.message, words.lang
    out = []
    for step in steps:
        if step.step == "produced":
            text = say["produced_step"] % {"place": f"{step.regency}, {step.province}"}
        elif step.step == "certified":
            text = say["certified_step"] % {"office": step.office or "—"}
        elif step.step == "hub_passage":
            text = say["hub_step"] % {"hub": step.hub_name}
        else:
            text = say["shipped_step"] % {"port": f"{step.port} ({step.locode})",
                                          "country": country_name(step.country or "", lang)}
        out.append(Stage(text, fmt_date(step.date, lang) if step.date else None,
                         step.date.isoformat() if step.date else None))
    return out


# -- the renderer --------------------------------------------------------------------------


def _catalogue_gettext(translate: Callable[[str], str]) -> Callable[..., Markup]:
    """``_()`` for the templates in one language, as Jinja's "newstyle" gettext that Flask-Babel
    installs behaves under autoescaping (every verification template autoescapes): the
    translation is a format string, marked safe, and only the values put into it are escaped.
    Given in the render context as ``_``, it outranks the environment's ``_`` (which would ask
    Flask-Babel for the request's locale). Translations are kept as they are found: the label's
    page asks for the same dozen on every scan."""
    found: dict[str, Markup] = {}

    def gettext(message: str, **variables: Any) -> Markup:
        text = found.get(message)
        if text is None:
            # The catalogue's own text (ours, reviewed) is markup-safe.
            text = found[message] = Markup(translate(message))  # noqa: S704
        return text % variables if variables else text

    return gettext


@dataclass(frozen=True)
class Language:
    """One language's catalogue and formatters, handed to every template rendered in it."""

    code: str
    words: Words
    gettext: Callable[..., Markup]

    def date(self, value: dt.date | None) -> str:
        return fmt_date(value, self.code)

    def quantity(self, quantity: Decimal | str, unit: str) -> str:
        return fmt_quantity(quantity, unit, self.words)

    def country(self, code: str) -> str:
        return country_name(code, self.code)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.code)

    def hs(self, code: str) -> Markup:
        """The HS code with its description in this language (English for zh and ja)."""
        return hs_markup(code, self.code,
                         self.gettext("(English only: no description in this language yet)"))


class VerifyPages:
    """Renders the verification-family pages of ``templates/verify/``."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.env = app.jinja_env
        self._languages: dict[str, Language] = {}
        self._templates: dict[str, Template] = {}
        self._lock = threading.Lock()
        adapter = app.url_map.bind("localhost")
        self.css_url = adapter.build("static", {"filename": "verify.css"})
        self.mark_url = adapter.build("static", {"filename": "mark.svg"})
        self.keys_url = adapter.build("verify.keys")
        self.report_url = adapter.build("verify.report_page")
        self._map_url = adapter.build("verify.origin_map", {"code": "CODE"}).replace(
            "CODE", "{}")
        _shapes, width, height = map_shapes()
        self.map_height = round(320 * height / width)  # no layout shift when the map arrives

    def language(self, lang: str) -> Language:
        language = self._languages.get(lang)
        if language is None:
            with self._lock:
                language = self._languages[lang] = self._load(lang)
        return language

    def _load(self, lang: str) -> Language:
        with self.app.test_request_context(), force_locale(lang):
            catalogue = get_translations()
            words = Words(
                lang=lang, headline={Verdict(k): str(v) for k, v in VERDICT_LABELS.items()},
                signal=_signals(), message=_messages(),
                unit={k: str(v) for k, v in UNIT_LABELS.items()},
                document={k: str(v) for k, v in DOCUMENT_LABELS.items()},
                detail={k: str(v) for k, v in (*ORIGIN_FORM_LABELS.items(),
                                               *ORGANIC_SCHEME_LABELS.items())},
                unavailable=_("Verification is temporarily unavailable. Please scan the label "
                              "again in a few minutes; this says nothing about the label."))
        return Language(lang, words, _catalogue_gettext(catalogue.gettext))

    def template(self, name: str) -> Template:
        # Kept here: ``Environment.get_template`` checks the file on every call when
        # templates auto-reload (debug), and the label's page is rendered on every scan.
        template = self._templates.get(name)
        if template is None or self.env.auto_reload:
            template = self._templates[name] = self.env.get_template(name)
        return template

    def render(self, name: str, lang: str, *, own: str | None, **context: Any) -> str:
        """``templates/verify/{name}`` in ``lang``. ``own``: this page's path and query,
        which the language links extend with ``lang=`` (None: no language links)."""
        language = self.language(lang)
        languages = []
        if own is not None:
            joiner = "&" if "?" in own else "?"
            languages = [(code, LANGUAGE_NAMES[code], f"{own}{joiner}lang={code}")
                         for code in VERIFY_LANGUAGES]
        template = self.template(name)
        # A shared context: the pages use only what is passed here, and merging the
        # environment's globals (Flask's proxies among them) into every scan's context cost
        # about a tenth of the render (a process_time microbenchmark: ~14 µs of ~180).
        shared = template.new_context(dict(
            lang=lang, _=language.gettext, gettext=language.gettext, fmt=language,
            languages=languages, css_url=self.css_url, mark_url=self.mark_url,
            keys_url=self.keys_url, **context), shared=True)
        try:
            return self.env.concat(template.root_render_func(shared))
        except Exception:
            self.env.handle_exception()  # Jinja's traceback rewriting, as ``render`` does
            raise

    # -- the label's page

    def label(self, r: Resolution, lang: str, *, chosen: str | None,
              own: str | None = None) -> str:
        """The verdict page. ``chosen``: the language picked in the URL, which the report
        link keeps; ``own``: this page's URL (``/verify`` + ``label_url(r.link)``)."""
        words = self.language(lang).words
        link = r.link
        own = own or PAGE_PREFIX + label_url(link)
        report = f"{own}&lang={chosen}" if chosen else own
        report_url = f"{self.report_url}?uri={query_value(report)}"
        if chosen:
            report_url += f"&lang={chosen}"
        view = LabelView(
            headline=words.headline[r.verdict], verdict_class=VERDICT_CLASS[r.verdict],
            symbol=SYMBOLS[r.verdict], explanation=explanation(r, words),
            product=self._product(r, words), serial=link.serial, lot=link.lot,
            gtin=link.gtin, report_url=report_url)
        return self.render("verify/label.html", lang, own=own, page=view)

    def _product(self, r: Resolution, words: Words) -> ProductView | None:
        facts = r.public
        if facts is None:
            return None
        place = f"{facts.origin_regency}, {facts.origin_province}"
        return ProductView(
            name=facts.product_name_id if words.lang == "id" else facts.product_name,
            photo_url=facts.photo_url, rows=rows(r, words),
            map_url=self._map_url.format(facts.origin_regency_code), map_height=self.map_height,
            caption=words.message["origin_caption"] % {"place": place},
            documents=[(d.url, words.document.get(d.kind) or d.kind)
                       for d in facts.documents],
            claims=claims([(d.kind, d.certificate) for d in facts.documents
                           if d.certificate is not None],
                          facts.certifying_office, facts.certified_on, words),
            journey=journey(r, words))

    # -- the page of a verification that could not be made just now

    def claims(self, lang: str, certificates: list[tuple[str, CertificatePublic]],
               office: str | None, certified_on: dt.date | None) -> list[Claim]:
        """The claims of a lot's page (``claims``) in ``lang``."""
        return claims(certificates, office, certified_on, self.language(lang).words)

    def unavailable(self, lang: str) -> str:
        return self.render("verify/unavailable.html", lang, own=None)

    def unavailable_text(self, lang: str) -> str:
        return self.language(lang).words.unavailable


# Everything but unreserved characters and "/" (fine in a query value) is escaped. The
# label URL is ASCII already; ``str.translate`` does this about ten times faster than
# ``urllib.parse.quote``, which the page would otherwise call on every scan.
_QUERY_VALUE = {c: f"%{c:02X}" for c in range(128)
                if not (chr(c).isalnum() or chr(c) in "-._~/")}


def query_value(value: str) -> str:
    """``value`` percent-encoded for a query string."""
    if value.isascii():
        return value.translate(_QUERY_VALUE)
    return quote(value, safe="/")
