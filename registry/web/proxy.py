"""Behind a reverse proxy: the request line as the reader sent it; without ``PROXY_HOPS``, a
warning.


With ``PROXY_HOPS=0`` the app takes the connecting address as the reader's. Behind a proxy
that is the proxy's, so every reader looks like one client: ten wrong logins from anyone lock
out everyone, and copy signals see one phone. A request carrying ``X-Forwarded-For`` is the
sign; the first one gets a warning in the log, once per process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WarnForwardedWithoutHops:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.warned = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> (
        Iterable[bytes]
    ):
        if not self.warned and "HTTP_X_FORWARDED_FOR" in environ:
            self.warned = True
            log.warning("Requests carry X-Forwarded-For but PROXY_HOPS is 0: behind a reverse "
                        "proxy every reader looks like one client (login limits, copy "
                        "signals). Set PROXY_HOPS to the number of proxies in front of the app.")
        return self.app(environ, start_response)


class RawUriFromProxy:
    """The request's path and query as the reader sent them (percent-encoding kept), from
    the proxy's ``X-Original-URI`` (nginx: ``$request_uri``), for servers that give the app
    only the decoded path. gunicorn passes ``RAW_URI``; granian (the verification pool) does
    not, and a Digital Link lot such as ``A%2FB`` would otherwise become two path segments.
    Installed only with ``PROXY_HOPS``: the proxy sets the header on every request, so a
    reader's own header of that name never arrives."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> (
        Iterable[bytes]
    ):
        original = environ.get("HTTP_X_ORIGINAL_URI")
        if original and "RAW_URI" not in environ and "REQUEST_URI" not in environ \
                and _same_request(original, environ):
            environ["RAW_URI"] = original
        return self.app(environ, start_response)


def _same_request(original: str, environ: dict[str, Any]) -> bool:
    """Whether ``original`` is this request's path and query, only spelled as sent: a header
    that names another URI (a proxy that does not set it, and a reader who does) is ignored
    rather than answered for a path the request did not ask."""
    path, _mark, query = original.partition("?")
    decoded = unquote_to_bytes(path).decode("latin-1")  # as servers fill PATH_INFO
    script = environ.get("SCRIPT_NAME", "")
    return decoded == script + environ.get("PATH_INFO", "") and \
        query == environ.get("QUERY_STRING", "")


# Request fields a server fills in per request only when the request has them (PEP 3333, CGI).
OPTIONAL_REQUEST_FIELDS = frozenset({
    "CONTENT_TYPE", "CONTENT_LENGTH", "REQUEST_URI", "RAW_URI", "REMOTE_HOST", "REMOTE_USER",
    "AUTH_TYPE", "HTTPS", "PATH_TRANSLATED",
})


def scrub_request_fields(environment: MutableMapping[str, str] = os.environ) -> list[str]:
    """Remove process environment variables named like request fields (``HTTP_*``,
    ``REQUEST_URI``, ``CONTENT_LENGTH`` …), returning their names. granian (the verification
    pool) starts every request's WSGI environ from the process environment, so such a
    variable would arrive in each request as if the reader had sent it: a ``REQUEST_URI``
    would replace the path the resolver reads, an ``HTTP_*`` would be a header. Called by
    ``wsgi.py`` once the app has read its configuration. Outbound proxies are configured with
    the lower-case ``http_proxy``/``https_proxy``, which Python reads as well."""
    names = sorted(name for name in environment
                   if name.startswith("HTTP_") or name in OPTIONAL_REQUEST_FIELDS)
    for name in names:
        del environment[name]
    if names:
        log.warning("Removed process environment variables named like request fields, which "
                    "the server would pass as part of every request: %s", ", ".join(names))
    return names
