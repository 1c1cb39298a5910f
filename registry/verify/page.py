"""The verification page, in the reader's language, built without a request context.

Every scan renders this page, so nothing here asks Flask-Babel per string: each language's
words are looked up once (``Words``, through Flask-Babel and the same catalogues as every other
page) and dates, numbers and country names are formatted once per value. The HTML is ``PAGE``
and ``PRODUCT`` below, filled with escaped values (see ``PageRenderer``).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from html import escape  # faster than markupsafe's on short strings
from urllib.parse import quote

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _

from registry import gs1
from registry.figures.charts import map_shapes
from registry.i18n import LANGUAGE_NAMES, VERIFY_LANGUAGES
from registry.templating import DOCUMENT_LABELS, UNIT_LABELS, country_name
from registry.verify.resolver import PAGE_PREFIX
from registry.verify.rules import Signal, Verdict
from registry.verify.services import Resolution

SYMBOLS = {Verdict.GENUINE: "✓", Verdict.SUSPENDED: "!", Verdict.EXPIRED: "!",
           Verdict.REVOKED: "✗", Verdict.NOT_GENUINE: "✗", Verdict.POSSIBLE_COPY: "⚠",
           Verdict.SPECIMEN: "✗"}
VERDICT_CLASS = {Verdict.GENUINE: "ok", Verdict.SUSPENDED: "warn", Verdict.EXPIRED: "warn",
                 Verdict.REVOKED: "bad", Verdict.NOT_GENUINE: "bad", Verdict.POSSIBLE_COPY: "bad",
                 Verdict.SPECIMEN: "bad"}


def _headlines() -> dict[Verdict, str]:
    return {
        Verdict.GENUINE: _("Genuine and certified"),
        Verdict.SUSPENDED: _("Certification suspended"),
        Verdict.REVOKED: _("Certification revoked"),
        Verdict.EXPIRED: _("Certification expired"),
        Verdict.NOT_GENUINE: _("Not a genuine label"),
        Verdict.POSSIBLE_COPY: _("Possible copy"),
        Verdict.SPECIMEN: _("Specimen — not a label"),
    }


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
    }


@dataclass(frozen=True)
class Words:
    """One language's words for the page, looked up and HTML-escaped once.

    Sentences with a placeholder (``%(date)s``) are escaped before the value goes in; the value
    is escaped on its own when it does."""

    lang: str
    headline: dict[Verdict, str]
    signal: dict[Signal, str]
    message: dict[str, str]
    unit: dict[str, str]
    document: dict[str, str]
    static: dict[str, str]
    nav: str  # the language links, with ``{own}`` for the label's own URL (escaped)


def _escaped(words: dict[str, str]) -> dict[str, str]:
    return {key: escape(str(value)) for key, value in words.items()}


def load_words(app: Flask, lang: str) -> Words:
    with app.test_request_context(), force_locale(lang):
        return Words(
            lang=lang, headline=_escaped(_headlines()),  # type: ignore[arg-type]
            signal=_escaped(_signals()), message=_escaped(_messages()),  # type: ignore[arg-type]
            unit=_escaped(UNIT_LABELS), document=_escaped(DOCUMENT_LABELS),
            static=_static_words(), nav=_nav(lang),
        )


def _nav(lang: str) -> str:
    # Braces in the names would break the later ``format``: there are none.
    return "".join(
        f'<a href="{{own}}{code}" hreflang="{code}" lang="{code}"'
        f'{CURRENT if code == lang else ""}>{escape(LANGUAGE_NAMES[code])}</a>'
        for code in VERIFY_LANGUAGES)


@lru_cache(maxsize=8192)
def fmt_date(value: dt.date | None, lang: str) -> str:
    """A date in the reader's locale, as HTML (locale data holds no markup, but escape)."""
    return "—" if value is None else escape(format_date(value, "medium", locale=lang))


@lru_cache(maxsize=8192)
def fmt_quantity(quantity: str, unit: str, lang: str) -> str:
    """A quantity in the reader's locale with its (already escaped) unit, as HTML."""
    return f"{escape(format_decimal(Decimal(quantity).normalize(), locale=lang))} {unit}"


def label_url(link: gs1.DigitalLink, **params: str | None) -> str:
    """The label's own URI (path and query), keeping its signature, with ``params`` added
    (those given as ``None`` are left out)."""
    packed = link.signature_field
    parts = [f"s={packed}"] if packed else []
    parts += [f"{key}={value}" for key, value in params.items()
              if value is not None]  # only ASCII codes are passed
    return link.canonical + ("?" + "&".join(parts) if parts else "")


def explanation(r: Resolution, words: Words) -> list[str]:
    """The verdict's sentences, as HTML."""
    facts, say, lang = r.public, words.message, words.lang
    lines: list[str] = []
    if r.verdict is Verdict.GENUINE and facts:
        lines.append(say["genuine"] % {"date": fmt_date(facts.valid_until, lang)})
    elif r.verdict is Verdict.SUSPENDED:
        lines.append(say["suspended"])
        if facts and facts.suspension_reason:
            lines.append(say["reason"] % {"reason": escape(facts.suspension_reason)})
    elif r.verdict is Verdict.REVOKED:
        lines.append(say["revoked"])
        if facts and facts.revocation_reason:
            lines.append(say["reason"] % {"reason": escape(facts.revocation_reason)})
    elif r.verdict is Verdict.EXPIRED and facts:
        lines.append(say["expired"] % {"date": fmt_date(facts.valid_until, lang)})
    elif r.verdict is Verdict.POSSIBLE_COPY:
        lines += [say["copy"], say["compare"]]
    lines += [words.signal[s] for s in r.signals if s in words.signal]
    return lines


def bdi(text: str) -> str:
    """Exporter-entered text as HTML: escaped, and isolated from its surroundings, so a
    right-to-left override in a name cannot reverse the page's own words around it."""
    return f"<bdi>{escape(text)}</bdi>"


def rows(r: Resolution, words: Words) -> list[tuple[str, str]]:
    """The product's facts as (label, value) pairs, both HTML."""
    facts, say, lang = r.public, words.message, words.lang
    if facts is None:
        return []
    out = [
        (say["origin"], escape(f"{facts.origin_regency}, {facts.origin_province}")),
        (say["producer"], bdi(facts.producer)),
        (say["production_date"], fmt_date(facts.production_date, lang)),
    ]
    if facts.best_before:
        out.append((say["best_before"], fmt_date(facts.best_before, lang)))
    out += [
        (say["lot"], escape(facts.lot)),
        (say["quantity"], fmt_quantity(facts.quantity,
                                       words.unit.get(facts.unit) or escape(facts.unit), lang)),
        (say["exporter"], bdi(facts.exporter)),
        (say["hub"], escape(facts.hub)),
        (say["destination"], escape(country_name(facts.destination_country, lang))),
    ]
    if facts.certifying_office:
        out.append((say["office"], escape(facts.certifying_office)))
    if facts.certified_on:
        out.append((say["certified_on"], fmt_date(facts.certified_on, lang)))
    if facts.valid_until:
        out.append((say["valid_until"], fmt_date(facts.valid_until, lang)))
    return out


PAGE = """<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{headline} · Made in Bali–NTB–NTT</title>
  <link rel="stylesheet" href="{css_url}">
  <meta name="robots" content="noindex">
</head>
<body>
<header>
  <span class="mark"><img src="{mark_url}" alt="" width="28" height="28">
    Made in Bali–NTB–NTT</span>
  <nav aria-label="Language">{languages}</nav>
</header>
<main>
<section class="verdict {verdict_class}" role="alert" aria-live="polite">
  <p class="symbol" aria-hidden="true">{symbol}</p>
  <h1>{headline}</h1>
  {explanation}
</section>
{product}<section class="label-facts">
  <h2>{w[this_label]}</h2>
  <dl>
    <dt>{w[serial]}</dt><dd>{serial}</dd>
    <dt>{w[lot]}</dt><dd>{lot}</dd>
    <dt>GTIN</dt><dd>{gtin}</dd>
  </dl>
</section>
<p class="report"><a href="{report_url}">{w[report]}</a></p>
<p class="small">{w[keys_note]} <a href="{keys_url}">{w[keys]}</a></p>
</main>
<footer><p>{w[footer]}</p></footer>
</body>
</html>
"""
CURRENT = ' aria-current="true"'
# The page of a verification that could not be made (the database or the key store does not
# answer): it says so, and nothing about the label.
UNAVAILABLE = """<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{w[unavailable_title]} · Made in Bali–NTB–NTT</title>
  <link rel="stylesheet" href="{css_url}">
  <meta name="robots" content="noindex">
</head>
<body>
<main>
<section class="verdict warn" role="alert"><h1>{w[unavailable_title]}</h1>
  <p>{w[unavailable]}</p></section>
</main>
</body>
</html>
"""
PRODUCT = """<section class="product">
  {photo}<h2>{name}</h2>
  <dl>
    {rows}
  </dl>
  <figure class="map"><img src="{map_url}" alt="" {map_size}>
    <figcaption>{caption}</figcaption></figure>
  {documents}
</section>
"""


def _static_words() -> dict[str, str]:
    """The page's fixed words, escaped once per language."""
    return {key: str(escape(value)) for key, value in {
        "this_label": _("This label"),
        "serial": _("Serial number"),
        "lot": _("Lot code"),
        "report": _("Report a suspected fake"),
        "keys_note": _("Each label carries a digital signature of the registry. Anyone can "
                       "check it with the published keys:"),
        "keys": _("registry keys"),
        "footer": _("The joint export label of the provinces of Bali, Nusa Tenggara Barat and "
                    "Nusa Tenggara Timur."),
        "documents": _("Documents"),
        "unavailable": _("Verification is temporarily unavailable. Please scan the label "
                         "again in a few minutes; this says nothing about the label."),
        "unavailable_title": _("Temporarily unavailable"),
    }.items()}


class PageRenderer:
    """Renders the verification page for a resolution in one of the page's languages.

    The page is assembled from ``PAGE`` with escaped values rather than through Jinja: it is
    the one page rendered on every scan, and rendering it through Jinja's generator chain cost
    as much as the whole database lookup. Every value passes through ``escape``; ``PAGE``
    holds no logic.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._words: dict[str, Words] = {}
        self._lock = threading.Lock()
        adapter = app.url_map.bind("localhost")
        self._css_url = adapter.build("static", {"filename": "verify.css"})
        self._mark_url = adapter.build("static", {"filename": "mark.svg"})
        self._keys_url = adapter.build("verify.keys")
        self._report_url = adapter.build("verify.report_page")
        self._map_url = adapter.build("verify.origin_map", {"code": "CODE"}).replace(
            "CODE", "{}")
        _shapes, width, height = map_shapes()
        self._map_size = f'width="320" height="{320 * height / width:.0f}"'  # no layout shift

    def words(self, lang: str) -> Words:
        words = self._words.get(lang)
        if words is None:
            with self._lock:
                words = self._words[lang] = load_words(self.app, lang)
        return words

    def render(self, r: Resolution, lang: str, *, chosen: str | None,
               own: str | None = None) -> str:
        """``chosen``: the language picked in the URL, which the report link keeps;
        ``own``: this page's URL (``/verify`` + ``label_url(r.link)``) when the caller has it
        already."""
        words = self.words(lang)
        link = r.link
        own = own or PAGE_PREFIX + label_url(link)
        report = f"{own}&lang={chosen}" if chosen else own
        report_url = f"{self._report_url}?uri={query_value(report)}"
        if chosen:
            report_url += f"&amp;lang={chosen}"
        own = escape(own)
        headline = words.headline[r.verdict]
        return PAGE.format(
            lang=lang, headline=headline, css_url=self._css_url, mark_url=self._mark_url,
            w=words.static, languages=words.nav.format(own=own + "&amp;lang="),
            verdict_class=VERDICT_CLASS[r.verdict], symbol=SYMBOLS[r.verdict],
            explanation="".join(f"<p>{line}</p>" for line in explanation(r, words)),
            product=self._product(r, words), serial=escape(link.serial),
            lot=escape(link.lot), gtin=escape(link.gtin),
            report_url=report_url, keys_url=self._keys_url,
        )

    def unavailable(self, lang: str) -> str:
        """The page of a verification that could not be made just now."""
        return UNAVAILABLE.format(lang=lang, w=self.words(lang).static, css_url=self._css_url)

    def unavailable_text(self, lang: str) -> str:
        return str(self.words(lang).static["unavailable"])

    def _product(self, r: Resolution, words: Words) -> str:
        facts = r.public
        if facts is None:
            return ""
        plain = facts.product_name_id if words.lang == "id" else facts.product_name
        name = bdi(plain)
        photo = (f'<img src="{escape(facts.photo_url)}" alt="{escape(plain)}" width="320" '
                 f'loading="lazy">') if facts.photo_url else ""
        documents = ""
        if facts.documents:
            items = "".join(f'<li><a href="{escape(d.url)}">'
                            f"{words.document.get(d.kind) or escape(d.kind)}</a></li>"
                            for d in facts.documents)
            documents = f"<h3>{words.static['documents']}</h3>\n  <ul>{items}</ul>"
        place = f"{facts.origin_regency}, {facts.origin_province}"
        return PRODUCT.format(
            photo=photo, name=name,
            rows="".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows(r, words)),
            map_url=escape(self._map_url.format(facts.origin_regency_code)),
            map_size=self._map_size,
            caption=words.message["origin_caption"] % {"place": escape(place)},
            documents=documents,
        )


# Everything but unreserved characters and "/" (fine in a query value) is escaped. The
# label URL is ASCII already; ``str.translate`` does this about ten times faster than
# ``urllib.parse.quote``, which the page would otherwise call on every scan.
_QUERY_VALUE = {c: f"%{c:02X}" for c in range(128)
                if not (chr(c).isalnum() or chr(c) in "-._~/")}


def query_value(value: str) -> str:
    """``value`` percent-encoded for a query string; the result is safe in HTML as it is."""
    if value.isascii():
        return value.translate(_QUERY_VALUE)
    return quote(value, safe="/")
