"""Label URIs answered in front of Flask: the verification page and its JSON.

Every package scanned anywhere lands here, so this path does only what a verification needs:
parse the URI, check the signature, one database statement, the page from the verification
pages' one renderer (``page.py``, the same templates the walk-up pages use), a buffered scan.
Flask's request machinery (context, session, CSRF, rate limiter, locale selector, per-header
hooks) cost several times that work; none of it is needed, because the page has no session,
no form and no user. Digital Link URIs (``/01/…``) are answered here by the resolver
(``resolver.py``). A database or key store failure is answered here too (503, a page or
problem+json), never by re-entering Flask; whatever else is not a page or JSON request for
a well-formed code (a malformed code, a walk-up page) goes on to the Flask views.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Flask
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_etags

from registry.clock import today, utcnow
from registry.gs1 import digital_link as gs1
from registry.ops.metrics import SCANS_BY_VERDICT
from registry.reference import country_codes
from registry.signing.keys import store_for
from registry.signing.signer import KeyStoreUnavailable
from registry.verify import resolver, services
from registry.verify.attribution import NONE as NO_ATTRIBUTION
from registry.verify.attribution import Attribution, attribute
from registry.verify.negotiation import LINKSET, language_for, wanted
from registry.verify.page import VerifyPages, label_url
from registry.verify.public import verification_json
from registry.verify.rules import Thresholds
from registry.verify.scanlog import ScanBudget, ScanBuffer
from registry.web.i18n import VERIFY_LANGUAGES
from registry.web.security import security_headers

log = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

# Link previews fetch the page when a buyer shares it in a chat: not a package in a hand, and
# counting them would make a shared genuine label look copied.
# The verification page of a label: the resolver's default link for a label URI.
LABEL_PAGE = "/verify/01/"

PREVIEW_AGENTS = ("facebookexternalhit", "whatsapp", "telegrambot", "slackbot", "twitterbot",
                  "discordbot", "linkedinbot", "skypeuripreview", "googlebot", "bingbot",
                  "applebot", "line-poker", "kakaotalk-scrap")


def country_for(accept_language: str) -> str | None:
    """The region of the first language tag that names one (``zh-Hans-CN`` → CN): an ISO
    3166 alpha-2 code or nothing. Headers arrive as latin-1 text, so "en-ßß" must not become
    "SSSS" (``"ß".upper()``), which no country column holds."""
    codes = country_codes()
    for value, _q in parse_accept_header(accept_language, LanguageAccept):
        for subtag in value.replace("_", "-").split("-")[1:]:
            if subtag.lower() == "x":  # private use follows
                break
            region = subtag.upper()
            if len(subtag) == 2 and subtag.isascii() and region in codes:
                return region
    return None


def network_of(address: str, v4_prefix: int, v6_prefix: int) -> str:
    """The network a scan comes from: the address cut to its /``v4_prefix`` or
    /``v6_prefix`` prefix (a home or phone gets a whole IPv6 /64, so its addresses are one
    reader). Anything that is not an address is used as it is."""
    try:
        ip = ipaddress.ip_address(address.strip().split("%")[0])
    except ValueError:
        return address[:64]
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = v4_prefix if ip.version == 4 else v6_prefix
    return str(ipaddress.ip_network((ip, prefix), strict=False))


class Memo:
    """A small bounded memo for header values: browsers send a handful of distinct ones."""

    def __init__(self, func: Callable[..., Any], size: int = 512) -> None:
        self.func, self.size = func, size
        self.items: dict[tuple[Any, ...], Any] = {}

    def __call__(self, *key: Any) -> Any:
        try:
            return self.items[key]
        except KeyError:
            if len(self.items) >= self.size:
                self.items.clear()
            value = self.items[key] = self.func(*key)
            return value


class Urls:
    """The resolver's public URLs, built from the app's URL map once per kind."""

    def __init__(self, app: Flask) -> None:
        self._adapter = app.url_map.bind("localhost")
        photo = self._adapter.build("verify.photo", {"batch_id": 1})
        document = self._adapter.build("verify.document", {"document_id": 1})
        self._photo = photo.rpartition("/1/")
        self._document = document.rpartition("/1")

    def photo(self, batch_id: int) -> str:
        head, _mid, tail = self._photo
        return f"{head}/{batch_id}/{tail}"

    def document(self, document_id: int) -> str:
        head, _mid, tail = self._document
        return f"{head}/{document_id}{tail}"


class LabelResolver:
    """WSGI middleware: answers page and JSON requests for label URIs, passes the rest on."""

    def __init__(self, app: Flask, downstream: WsgiApp) -> None:
        self.app = app
        self.downstream = downstream
        cfg = app.config
        self.engine = app.extensions["engine"]
        self.pages = VerifyPages(app)
        self.urls = Urls(app)
        self.default_language = cfg.get("BABEL_DEFAULT_LOCALE", "en")
        if self.default_language not in VERIFY_LANGUAGES:
            self.default_language = "en"
        self.country_header = cfg.get("COUNTRY_HEADER")  # e.g. CF-IPCountry behind a CDN
        self.secret = str(cfg["SECRET_KEY"]).encode()
        self.security_headers = security_headers(production=bool(cfg.get("PRODUCTION")))
        # Tests make an app per test: a connection held per thread would outlive its database.
        self.keep_connection = not cfg.get("TESTING")
        self._wanted = Memo(wanted)
        self._language = Memo(language_for)
        self._country = Memo(country_for)
        self._network = Memo(network_of, size=4096)
        self._local = threading.local()
        self._day_key: tuple[dt.date, bytes] | None = None
        self._thresholds: tuple[tuple[Any, ...], Thresholds] | None = None
        self._budget: tuple[tuple[int, int], ScanBudget] | None = None

    @property
    def thresholds(self) -> Thresholds:
        """When a serial looks copied: the ``COPY_*`` settings, read as they are now."""
        cfg = self.app.config
        key = (cfg.get("COPY_DISTINCT_CLIENTS", 6), cfg.get("COPY_WINDOW_MINUTES", 60),
               cfg.get("COPY_SCANS_IN_WINDOW", 20))
        if self._thresholds is None or self._thresholds[0] != key:
            self._thresholds = (key, Thresholds(
                distinct_clients=int(key[0]), window=dt.timedelta(minutes=int(key[1])),
                scans_in_window=int(key[2])))
        return self._thresholds[1]

    @property
    def budget(self) -> ScanBudget:
        """How many scan rows one client may cost an hour (``SCAN_ROWS_PER_*`` settings)."""
        cfg = self.app.config
        key = (int(cfg.get("SCAN_ROWS_PER_CLIENT", 100)),
               int(cfg.get("SCAN_ROWS_PER_SERIAL", 3)))
        if self._budget is None or self._budget[0] != key:
            self._budget = (key, ScanBudget(per_client=key[0], per_serial=key[1]))
        return self._budget[1]

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        answer = None
        if path.startswith("/01/") and method in ("GET", "HEAD", "OPTIONS"):
            # The GS1 resolver: a redirect or the linkset, no database (resolver.py).
            try:
                answer = self.resolve_uri(environ)
            except Exception:  # the Flask view answers (or fails) the same request properly
                log.exception("GS1 resolver failed; passing the request to Flask")
            if answer is not None and answer[0].startswith("400") and self._wanted(
                    environ.get("HTTP_ACCEPT", "")) == "html":
                answer = None  # a person: the "not a registry label" page, from Flask
        elif path.startswith(LABEL_PAGE) and method in ("GET", "HEAD"):
            try:
                answer = self.answer(environ)
            except Exception as exc:  # the key store or the database does not answer
                # Answered here, never by re-entering Flask (which would meet the same
                # failure a second time): 503, never "not genuine".
                log.error("verification unavailable on %s: %s: %s", path,
                          type(exc).__name__, exc, exc_info=not isinstance(
                              exc, KeyStoreUnavailable))
                answer = self.unavailable(environ)
        if answer is not None:
            status, headers, body = answer
            start_response(status, headers)
            return [] if method == "HEAD" else [body]
        return self.downstream(environ, start_response)

    def unavailable(self, environ: Environ) -> tuple[str, list[tuple[str, str]], bytes]:
        """503 in the reader's language (a page, or problem+json): the registry cannot vouch
        for the label just now, which says nothing about the label."""
        params = query_params(environ.get("QUERY_STRING", ""))
        chosen = params.get("lang")
        lang = chosen if chosen in VERIFY_LANGUAGES else self._language(
            environ.get("HTTP_ACCEPT_LANGUAGE", ""), self.default_language)
        if self._wanted(environ.get("HTTP_ACCEPT", "")) == "html":
            body = self.pages.unavailable(lang).encode()
            content_type = "text/html; charset=utf-8"
        else:
            body = self.app.json.dumps({
                "type": "about:blank", "title": "Service Unavailable", "status": 503,
                "detail": self.pages.unavailable_text(lang)}).encode()
            content_type = "application/problem+json"
        return "503 Service Unavailable", [
            ("Content-Type", content_type), ("Content-Length", str(len(body))),
            ("Retry-After", "30"), ("Cache-Control", "no-store"),
            ("Vary", "Accept, Accept-Language"), *resolver.CORS, *self.security_headers,
        ], body

    def base(self) -> str:
        """Where every link and redirect points: ``PUBLIC_SCHEME://PUBLIC_HOST``, never the
        request's Host header (an attacker's ``Host: evil.example`` is not reflected)."""
        cfg = self.app.config
        return f"{cfg.get('PUBLIC_SCHEME', 'https')}://{cfg['PUBLIC_HOST']}"

    def resolve_uri(self, environ: Environ) -> resolver.Answer:
        """The resolver's answer for a Digital Link URI (``/01/…``)."""
        query = environ.get("QUERY_STRING", "")
        status, headers, body = resolver.answer(
            environ.get("REQUEST_METHOD", "GET"), request_path(environ),
            parse_qsl(query, keep_blank_values=True), environ.get("HTTP_ACCEPT", ""),
            self.base())
        return status, [*headers, *self.security_headers], body

    def answer(self, environ: Environ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """Status, headers and body for a page or JSON request; ``None`` for anything else."""
        params = query_params(environ.get("QUERY_STRING", ""))
        kind = self._wanted(environ.get("HTTP_ACCEPT", ""))
        if kind == "linkset":
            kind = "json"  # the page's own linkset is the label URI's (its Link header)
        try:
            link = gs1.parse_uri(raw_uri(environ, strip=resolver.PAGE_PREFIX))
        except gs1.Gs1Error:
            return None
        chosen = params.get("lang")
        chosen = chosen if chosen in VERIFY_LANGUAGES else None
        accept_language = environ.get("HTTP_ACCEPT_LANGUAGE", "")
        lang = chosen or self._language(accept_language, self.default_language)
        agent = environ.get("HTTP_USER_AGENT", "")
        client = self.client_hash(environ.get("REMOTE_ADDR") or "")
        resolution = self.resolve(link, client)
        SCANS_BY_VERDICT[resolution.verdict].inc()
        own = resolver.PAGE_PREFIX + label_url(link)
        base = self.base()
        linkset = base + link.canonical + "?linkType=linkset"

        if kind == "json":
            body = self.app.json.dumps(verification_json(
                resolution, page=base + own, linkset=linkset,
                keys=base + self.pages.keys_url)).encode()
            content_type = "application/json"
        else:
            body = self.pages.label(resolution, lang, chosen=chosen, own=own).encode()
            content_type = "text/html; charset=utf-8"
        etag = f'"{hashlib.sha1(body, usedforsecurity=False).hexdigest()}"'
        headers = [
            ("Content-Type", content_type),
            ("Vary", "Accept, Accept-Language"),
            ("Cache-Control", "no-cache"),
            ("Link", f'<{linkset}>; rel="linkset"; type="{LINKSET}"'),
            ("ETag", etag),
            *resolver.CORS,
            *self.security_headers,
        ]
        if (environ.get("REQUEST_METHOD") == "GET" and not is_preview(agent)
                and self.budget.allow(client, link.gtin, link.lot, link.serial)):
            country, source = self.country(environ, accept_language)
            self.buffer().add(services.scan_row(
                resolution, now=utcnow(), language=lang, country=country,
                country_source=source, mobile="Mobi" in agent, client=client,
                attribution=self.attribution(resolution)))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and parse_etags(if_none_match).contains(etag[1:-1]):
            return "304 Not Modified", headers[1:], b""
        headers.append(("Content-Length", str(len(body))))
        return "200 OK", headers, body

    # -- the work ---------------------------------------------------------------------------

    def resolve(self, link: gs1.DigitalLink, client: str,
                connection: Any = None) -> services.Resolution:
        """The verdict on ``link``; on ``connection`` (DB-API) when given, such as the
        request's own in a Flask view, else on the thread's kept connection."""
        if connection is None:
            with self.connection() as kept:
                return self.resolve(link, client, kept)
        return services.resolve(
            connection, link, verifier=store_for(self.app).verifier(),
            thresholds=self.thresholds, now=utcnow(), today=today(), client=client,
            pending_clients=self.buffer().pending_clients, urls=self.urls)

    def attribution(self, resolution: services.Resolution,
                    connection: Any = None) -> Attribution:
        """Who must see this answer, when it belongs to no batch: a small query of its own,
        only on not-genuine answers."""
        if not services.needs_attribution(resolution):
            return NO_ATTRIBUTION
        signals = [s.value for s in resolution.signals]
        try:
            if connection is None:
                with self.connection() as kept:  # discarded if the query fails
                    return attribute(kept, resolution.link, signals)
            return attribute(connection, resolution.link, signals)
        except Exception:  # the buyer's answer and the scan matter more: the admins get it
            log.exception("attributing a not-genuine scan failed")
            return NO_ATTRIBUTION

    def buffer(self) -> ScanBuffer:
        buffer = self.app.extensions.get("scan_buffer")
        if buffer is None:
            buffer = ScanBuffer(self.engine, background=not self.app.config.get("TESTING"))
            self.app.extensions["scan_buffer"] = buffer
        return buffer

    def connection(self) -> _Connection:
        return _Connection(self)

    def client_hash(self, address: str) -> str:
        """HMAC of the reader's network under a key that changes daily: countable today only,
        and untraceable across days. The network (the address behind the configured proxy
        hops, cut to ``CLIENT_PREFIX_V4`` / ``CLIENT_PREFIX_V6``) is something a scanner
        cannot choose freely, unlike the User-Agent: one address is one reader, whatever
        browsers it claims (issue 11)."""
        day = today()
        if self._day_key is None or self._day_key[0] != day:
            key = hmac.new(self.secret, day.isoformat().encode(), hashlib.sha256).digest()
            self._day_key = (day, key)
        cfg = self.app.config
        network = self._network(address, int(cfg.get("CLIENT_PREFIX_V4", 24)),
                                int(cfg.get("CLIENT_PREFIX_V6", 64)))
        return hmac.digest(self._day_key[1], network.encode(), "sha256").hex()[:16]

    def country(self, environ: Environ, accept_language: str) -> tuple[str | None, str | None]:
        """The reader's country and where it came from: ``header`` (set by the CDN or proxy
        named in ``COUNTRY_HEADER``: the reader's country) or ``language`` (the region of the
        preferred language: not a location)."""
        if self.country_header:
            value = environ.get("HTTP_" + self.country_header.upper().replace("-", "_"), "")
            value = value.strip().upper()
            if value.isascii() and value in country_codes():
                return value, "header"
        region = self._country(accept_language)
        return (region, "language") if region else (None, None)


class _Connection:
    """A DB-API connection for one resolution: the thread's own, kept between requests
    (a pool checkout, and on PostgreSQL its liveness ping, cost as much as the lookup), or a
    pooled one returned at once under tests. Any error discards it."""

    def __init__(self, resolver: LabelResolver) -> None:
        self.resolver = resolver
        self.pooled: Any = None

    def __enter__(self) -> Any:
        local = self.resolver._local
        pooled = getattr(local, "pooled", None) if self.resolver.keep_connection else None
        if pooled is None:
            pooled = self.resolver.engine.raw_connection()
            if self.resolver.keep_connection:
                driver = pooled.driver_connection
                if hasattr(driver, "autocommit"):  # psycopg: every lookup sees the latest commit
                    driver.rollback()
                    driver.autocommit = True
                local.pooled = pooled
        self.pooled = pooled
        return pooled.driver_connection

    def __exit__(self, exc_type: Any, *_exc: Any) -> None:
        if exc_type is not None:
            self.resolver._local.pooled = None
            self.pooled.invalidate()
        elif not self.resolver.keep_connection:
            self.pooled.close()


def query_params(query: str) -> dict[str, str]:
    """The query's parameters (the last of repeated ones, as ``parse_qsl`` into a dict)."""
    if "%" in query or "+" in query:
        return dict(parse_qsl(query, keep_blank_values=True))
    # A scanned label's query is plain ``s=...`` (and maybe ``lang=``): nothing to decode.
    return dict(part.partition("=")[::2] for part in query.split("&") if part)


def raw_uri(environ: Environ, strip: str = "") -> str:
    """The request's path and query as the client sent them (percent-encoding kept), without
    the prefix ``strip``."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        query = environ.get("QUERY_STRING", "")
        raw = request_path(environ) + (f"?{query}" if query else "")
    raw = str(raw)
    return raw[len(strip):] if strip and raw.startswith(strip) else raw


def request_path(environ: Environ) -> str:
    """The request's path, percent-encoded again as a Digital Link path wants it."""
    return quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/%!&'()*+,;=:-._~")


def is_preview(agent: str) -> bool:
    agent = agent.lower()
    return any(bot in agent for bot in PREVIEW_AGENTS)
