"""Content and language negotiation for every verification-family answer (the resolver's
redirects and linksets, the verification page and its JSON, the walk-up pages): one place,
werkzeug's ``best_match`` underneath."""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from registry.web.i18n import VERIFY_LANGUAGES, best_language

LINKSET = "application/linkset+json"


def wanted(accept_header: str) -> str:
    """``html``, ``json`` or ``linkset`` for an Accept header."""
    accept = parse_accept_header(accept_header, MIMEAccept)
    best = accept.best_match(["text/html", "application/json", LINKSET])
    # HTML only when the client names it: "application/json, text/plain, */*" (what most
    # HTTP libraries send) wants JSON, though its */* would take a page too.
    named_html = max((q for value, q in accept if value == "text/html"), default=0)
    if best == LINKSET or (best == "application/json" and named_html < accept[best]):
        return "linkset" if best == LINKSET else "json"
    return "html"


def language_for(accept_language: str, default: str) -> str:
    """The page language for an Accept-Language header (zh-CN, ja-JP match on the primary),
    as every other page chooses (``registry.web.i18n.best_language``)."""
    return best_language(accept_language, VERIFY_LANGUAGES, default)
