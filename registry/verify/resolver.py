"""The GS1-Conformant resolver (GS1-Conformant Resolver standard 1.2): what a GS1 Digital Link
URI with a GTIN answers, before any page is made.

A Digital Link URI is an identifier; the resolver answers it with a redirect to one of the
registry's pages, or with the list of them (the linkset, RFC 9264). Nothing here reads the
database: which links exist follows from the identifier's levels alone (a label, its lot,
its GTIN), so the redirect costs microseconds and the page behind it does the lookup. A
fake label is answered like a real one: its verification page says "not genuine".

Levels and their links (each absolute, on ``PUBLIC_SCHEME://PUBLIC_HOST``, never the
request's Host header):

- a label ``/01/{gtin}/10/{lot}/21/{serial}``: ``gs1:defaultLink`` and
  ``gs1:verificationService`` to the verification page ``/verify/01/…/21/{serial}`` (HTML in
  four languages, or JSON by the Accept header);
- its lot ``/01/{gtin}/10/{lot}``: ``gs1:defaultLink`` and ``gs1:certificationInfo`` to the
  lot's public page (certification, facts, public documents), and ``gs1:epcis`` to its
  journey as EPCIS 2.0 events (``/epcis/01/{gtin}/10/{lot}``);
- its GTIN ``/01/{gtin}``: ``gs1:defaultLink`` and ``gs1:pip`` to the product's page.

A request for a label walks up: it has every link type of its own level and those of the
levels above it that its own level lacks (``linkType=gs1:pip`` on a label goes to the
product page). Choices the standard leaves open, and why, are in the README ("A GS1-Conformant
resolver").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from registry.gs1 import compression
from registry.gs1 import digital_link as gs1
from registry.verify.negotiation import LINKSET, wanted

GS1_VOC = "https://gs1.org/voc/"
# The namespaces GS1 has published its vocabulary under; a link type in any of them, or as a
# gs1: CURIE, names the same link type.
_GS1_NAMESPACES = ("https://gs1.org/voc/", "http://gs1.org/voc/", "https://ref.gs1.org/voc/",
                   "http://ref.gs1.org/voc/", "https://www.gs1.org/voc/", "gs1:")
PAGE_PREFIX = "/verify"
EPCIS_PREFIX = "/epcis"
# The JSON-LD context of GS1 linksets (gs1/linkset), announced on every linkset answer.
LINKSET_CONTEXT = "https://gs1.github.io/linkset/linksetContext.jsonld"
CONTEXT_LINK = (f'<{LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; '
                'type="application/ld+json"')
LANGUAGES = ("en", "id", "zh", "ja")
METHODS = "GET, HEAD, OPTIONS"
# A partially compressed URI: the GTIN written out, the rest one compressed segment.
PARTIALLY_COMPRESSED = re.compile(r"/01/(\d{14})/([A-Za-z0-9_-]{2,})")
# Every resolver answer may be read by a script on any site (the standard: "SHALL support
# CORS"); the answers carry no cookies and nothing private.
CORS = (("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", METHODS),
        ("Access-Control-Allow-Headers", "Accept, Accept-Language"),
        ("Access-Control-Expose-Headers", "Link, Location, Content-Type"))
# Linksets and redirects depend on these request headers.
VARY = ("Vary", "Accept, Accept-Language")

Answer = tuple[str, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class Link:
    rel: str  # short GS1 link type: defaultLink, verificationService, …
    href: str
    title: str
    type: str | None = None
    hreflang: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"href": self.href, "title": self.title}
        if self.type:
            out["type"] = self.type
        if self.hreflang:
            out["hreflang"] = list(self.hreflang)
        return out


@dataclass(frozen=True)
class Level:
    anchor: str  # absolute, uncompressed
    description: str
    links: tuple[Link, ...]


def label_uri_of(uri: str) -> str:
    """A label URI, also when given the address of its verification page (``/verify/01/…``,
    what a phone's address bar shows after the redirect)."""
    parts = urlsplit(uri)
    if parts.path.startswith(PAGE_PREFIX + "/01/"):
        return urlunsplit(parts._replace(path=parts.path[len(PAGE_PREFIX):]))
    return uri


def link_type(value: str) -> str | None:
    """The short GS1 link type named by ``value`` (``gs1:pip``, ``https://gs1.org/voc/pip``,
    ``https://ref.gs1.org/voc/pip``), or None when it is not a GS1 one."""
    for namespace in _GS1_NAMESPACES:
        if value.startswith(namespace):
            name = value[len(namespace):]
            return name if name.isascii() and name.isalnum() else None
    return None


def query_string(pairs: Sequence[tuple[str, str]]) -> str:
    """The request's query, passed on to the target (the standard: all key=value pairs by
    default), without ``linkType``, which chose the target."""
    kept = [(k, v) for k, v in pairs if k != "linkType"]
    if not kept:
        return ""
    return "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in kept)


def levels(ident: gs1.Identified, base: str, query: str) -> list[Level]:
    """The identified item's levels, most granular first, with their links."""
    gtin = ident.gtin
    out: list[Level] = []
    if ident.label:
        assert ident.lot is not None and ident.serial is not None
        path = gs1.canonical_path(gtin, ident.lot, ident.serial)
        page = base + PAGE_PREFIX + path + query
        out.append(Level(base + path, f"Label {ident.serial} of lot {ident.lot}, GTIN {gtin}", (
            Link("defaultLink", page, "Verify this label"),
            Link("verificationService", page, "Verify this label", "text/html", LANGUAGES),
            Link("verificationService", page, "Verification result (JSON)",
                 "application/json"),
        )))
    if ident.lot is not None:
        path = gs1.lot_path(gtin, ident.lot)
        page = base + PAGE_PREFIX + path + query
        out.append(Level(base + path, f"Lot {ident.lot} of GTIN {gtin}", (
            Link("defaultLink", page, "Certification of this lot"),
            Link("certificationInfo", page, "Certification of this lot", "text/html",
                 LANGUAGES),
            # The lot's journey (produced, certified, passed the Bali hub) as EPCIS events.
            Link("epcis", base + EPCIS_PREFIX + path, "EPCIS events of this lot",
                 "application/ld+json"),
        )))
    path = gs1.gtin_path(gtin)
    page = base + PAGE_PREFIX + path + query
    out.append(Level(base + path, f"Product with GTIN {gtin}", (
        Link("defaultLink", page, "Product information"),
        Link("pip", page, "Product information", "text/html", LANGUAGES),
    )))
    return out


def linkset(ident: gs1.Identified, base: str, query: str) -> dict[str, object]:
    """The linkset (RFC 9264, GS1's linkset schema): one entry per level, link types as full
    GS1 vocabulary URIs."""
    entries = []
    for level in levels(ident, base, query):
        entry: dict[str, object] = {"anchor": level.anchor,
                                    "itemDescription": level.description}
        by_type: dict[str, list[object]] = {}
        for link in level.links:
            by_type.setdefault(GS1_VOC + link.rel, []).append(link.as_json())
        entry.update(by_type)
        entries.append(entry)
    return {"linkset": entries}


def available(ident: gs1.Identified, base: str, query: str) -> dict[str, list[Link]]:
    """Link types the request may ask for, walking up: each from the most granular level
    that has it."""
    found: dict[str, list[Link]] = {}
    for level in levels(ident, base, query):
        for rel in {link.rel for link in level.links} - set(found):
            found[rel] = [link for link in level.links if link.rel == rel]
    return found


def choose(links: list[Link], accept: str) -> Link:
    """The link of one type for this request: the one whose media type the Accept header
    prefers, else the first."""
    if len(links) > 1:
        kind = wanted(accept)
        for link in links:
            if kind == "json" and link.type == "application/json":
                return link
            if kind == "html" and link.type in (None, "text/html"):
                return link
    return links[0]


def answer(method: str, path: str, pairs: Sequence[tuple[str, str]], accept: str,
           base: str, *, same_as: str | None = None) -> Answer:
    """Status, headers and body for a request to a Digital Link URI. ``same_as``: the
    uncompressed URI, when the request was a compressed one."""
    headers = [*CORS, VARY]
    if same_as is not None:
        headers.append(("Link", f'<{same_as}>; rel="owl:sameAs"'))
    try:
        ident = gs1.parse_path(path)
    except gs1.Gs1Error as exc:
        partial = PARTIALLY_COMPRESSED.fullmatch(path)
        if partial is not None and same_as is None:
            # ``/01/{gtin}/{segment}``: answered as its uncompressed URI is, as a fully
            # compressed one is (views.compressed).
            try:
                uncompressed = compression.decompress_partial("01", *partial.groups())
                parts = urlsplit(uncompressed)
                gs1.parse_path(parts.path)
            except gs1.Gs1Error:  # CompressionError is one
                pass
            else:
                return answer(method, parts.path,
                              [*parse_qsl(parts.query, keep_blank_values=True), *pairs],
                              accept, base, same_as=base + uncompressed)
        if method == "OPTIONS":
            return "204 No Content", [*headers, ("Allow", METHODS)], b""
        return problem(400, "Not a GS1 Digital Link URI this resolver answers", str(exc),
                       headers)
    query = query_string(pairs)
    asked = dict(pairs).get("linkType")
    own = base + _canonical(ident)
    linkset_url = own + "?linkType=linkset"
    if method == "OPTIONS":
        # A preflight (and GS1's suite, which reads its headers) learns where the linkset is.
        # No Content-Length: a 204 must not carry one (RFC 9110 §8.6).
        return "204 No Content", [
            *headers, ("Allow", METHODS),
            ("Link", f'<{linkset_url}>; rel="linkset"; type="{LINKSET}"')], b""
    if asked in ("linkset", "all") or (asked is None and wanted(accept) == "linkset"):
        body = json.dumps(linkset(ident, base, query), separators=(",", ":")).encode()
        # One Link header with both links: clients that keep one header per name (PHP's
        # curl helpers, GS1's own suite) would lose the JSON-LD context otherwise.
        headers += [("Content-Type", LINKSET), ("Cache-Control", "no-cache"),
                    ("Link", f'{CONTEXT_LINK}, <{linkset_url}>; rel="linkset"; '
                             f'type="{LINKSET}"'),
                    ("Content-Length", str(len(body)))]
        return "200 OK", headers, body
    found = available(ident, base, query)
    if asked is None:
        target = found["defaultLink"][0]
    else:
        rel = link_type(asked)
        if rel is None or rel not in found:
            return problem(404, "No link of this type", f"no link of type {asked!r} for "
                           f"{_canonical(ident)}; the linkset lists the available ones: "
                           f"{linkset_url}", headers)
        target = choose(found[rel], accept)
    headers += [("Location", target.href), ("Cache-Control", "no-cache"),
                ("Link", f'<{linkset_url}>; rel="linkset"; type="{LINKSET}"'),
                ("Content-Length", "0")]
    return "307 Temporary Redirect", headers, b""


def _canonical(ident: gs1.Identified) -> str:
    """The uncompressed path of the most granular level the registry serves."""
    return ident.levels()[0]


def problem(status: int, title: str, detail: str, headers: list[tuple[str, str]]) -> Answer:
    body = json.dumps({"type": "about:blank", "title": title, "status": status,
                       "detail": detail}).encode()
    reason = {400: "Bad Request", 404: "Not Found"}[status]
    return (f"{status} {reason}", [*headers, ("Content-Type", "application/problem+json"),
                                   ("Content-Length", str(len(body)))], body)


def describe(base: str) -> dict[str, object]:
    """The resolver description file (``/.well-known/gs1resolver``), valid against GS1's
    description-file schema (1.2.0)."""
    return {
        "name": "Made in Bali–NTB–NTT export registry",
        "resolverRoot": base,
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
        # A request without linkType is redirected to the default link, never answered with
        # the linkset (clients ask for it with linkType=linkset or the Accept header).
        "linkTypeDefaultCanBeLinkset": False,
        "supportedContextValuesEnumerated": [],
        "jsonLdContextLocation": LINKSET_CONTEXT,
        # Not in GS1's schema (which allows more): where an offline verifier gets the keys
        # that check the labels' signatures.
        "signatureKeys": base + "/.well-known/registry-keys.json",
    }
