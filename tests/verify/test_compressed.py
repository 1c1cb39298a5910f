"""Issue 14 §2: the resolver answers compressed GS1 Digital Link URIs (``https://host/{segment}``,
GS1's compression) as it answers their uncompressed URIs, with the uncompressed URI in a
``Link: <…>; rel="owl:sameAs"`` header; a segment that is not one stays an unknown path (404)
and the registry's own one-segment pages are untouched.

Over real HTTP, as tests/verify/test_conformance.py (whose server and label fixtures these
are). The compressed forms of the registry's codes were made by GS1's own compressor
(tests/gs1/test_compression.py says how).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from registry.gs1 import digital_link as gs1
from tests.gs1.test_compression import PARTIAL, VECTORS
from tests.verify import test_conformance as conformance
from tests.verify.test_conformance import Server

# test_conformance's fixtures: the app served on a loopback port, a real label of it.
server = conformance.server
label = conformance.label

LINKSET = "application/linkset+json"
# The registry's codes, uncompressed → compressed by GS1's code.
COMPRESSED = {uri: compressed for uri, compressed, _ in VECTORS if uri.startswith("/01/0049")}


def _compressed(path: str) -> str:
    assert path in COMPRESSED, f"no GS1 vector for {path}: add it to test_compression.VECTORS"
    return "/" + COMPRESSED[path]


def _same_as(response: requests.Response) -> list[str]:
    """The owl:sameAs links of an answer (its Link headers arrive joined by commas)."""
    links = requests.utils.parse_header_links(  # type: ignore[attr-defined]
        response.headers.get("Link", ""))
    return [link["url"] for link in links if link.get("rel") == "owl:sameAs"]


def _without_same_as(headers: Any) -> dict[str, str]:
    """The headers of an answer, its owl:sameAs link taken out. Also left out: what differs
    between any two answers (Date), and what Flask adds that the uncompressed URI, answered
    in front of Flask, lacks: a request id, and Cookie in Vary (the session was looked at)."""
    out = {k.lower(): v for k, v in headers.items()
           if k.lower() not in ("date", "server", "x-request-id")}
    if "vary" in out:
        out["vary"] = out["vary"].removesuffix(", Cookie")
    link = ", ".join(part for part in out.get("link", "").split(", ")
                     if 'rel="owl:sameAs"' not in part)
    if link:
        out["link"] = link
    else:
        out.pop("link", None)
    return out


def test_a_labels_compressed_uri_redirects_like_its_uncompressed_one(
        server: Server, label: str) -> None:
    path, query = label.split("?")
    compressed = _compressed(path) + "?" + query
    for method in ("GET", "HEAD"):
        plain = server.request(method, label)
        short = server.request(method, compressed)
        assert plain.status_code == short.status_code == 307
        assert short.headers["Location"] == plain.headers["Location"] == (
            server.base + "/verify" + label)
        assert _same_as(short) == [server.base + path]
        assert _same_as(plain) == []
        assert _without_same_as(short.headers) == _without_same_as(plain.headers)
    # What the phone opens next is the label's page: genuine.
    page = requests.get(server.base + compressed, timeout=10)
    assert page.history[0].status_code == 307
    assert page.status_code == 200 and 'class="verdict ok"' in page.text


@pytest.mark.parametrize("how", ["linkType=linkset", "linkType=all", "accept"])
def test_the_linkset_of_a_compressed_uri_is_the_uncompressed_ones(
        server: Server, label: str, how: str) -> None:
    path = label.split("?")[0]
    compressed = _compressed(path)
    if how == "accept":
        plain = server.get(path, headers={"Accept": LINKSET})
        short = server.get(compressed, headers={"Accept": LINKSET})
    else:
        plain, short = server.get(f"{path}?{how}"), server.get(f"{compressed}?{how}")
    assert plain.status_code == short.status_code == 200
    assert short.headers["Content-Type"].startswith(LINKSET)
    assert short.content == plain.content
    # Its subject is the uncompressed URI (the resolver standard): the anchors say so.
    assert short.json()["linkset"][0]["anchor"] == server.base + path
    assert _same_as(short) == [server.base + path]
    assert _without_same_as(short.headers) == _without_same_as(plain.headers)


def test_a_partially_compressed_label_uri_redirects_like_its_uncompressed_one(
        server: Server, label: str) -> None:
    """``/01/{gtin}/{segment}``: the GTIN written out, lot and serial compressed (GS1's
    partially compressed form)."""
    path, query = label.split("?")
    partial = {uri: short for short, uri in PARTIAL}
    assert path in partial, f"no GS1 vector for {path}: add it to test_compression.PARTIAL"
    for method in ("GET", "HEAD", "OPTIONS"):
        plain = server.request(method, f"{path}?{query}")
        short = server.request(method, f"{partial[path]}?{query}")
        assert plain.status_code == short.status_code, method
        assert _same_as(short) == [server.base + path]
        assert _without_same_as(short.headers) == _without_same_as(plain.headers)
    page = requests.get(f"{server.base}{partial[path]}?{query}", timeout=10)
    assert page.history[0].status_code == 307
    assert page.status_code == 200 and 'class="verdict ok"' in page.text
    # A segment that is not GS1's compression of a qualifier stays a malformed code.
    assert server.get(path.rsplit("/", 4)[0] + "/AAAAAAAAAAAA").status_code == 400


def test_lot_and_gtin_level_compressed_uris(server: Server, label: str) -> None:
    link = gs1.parse_uri(label)
    for path in (gs1.lot_path(link.gtin, link.lot), gs1.gtin_path(link.gtin)):
        plain, short = server.get(path), server.get(_compressed(path))
        assert plain.status_code == short.status_code == 307, path
        assert short.headers["Location"] == plain.headers["Location"]
        assert short.headers["Location"] == server.base + "/verify" + path
        assert _same_as(short) == [server.base + path]
        typed = server.get(_compressed(path) + "?linkType=gs1:pip")
        assert typed.headers["Location"] == server.base + "/verify" + gs1.gtin_path(link.gtin)
        page = requests.get(server.base + _compressed(path), timeout=10)
        assert page.status_code == 200 and "Sumbawa Honey" in page.text


def test_options_on_a_compressed_uri_is_the_preflight_of_the_uncompressed_one(
        server: Server, label: str) -> None:
    path = label.split("?")[0]
    headers = {"Origin": "https://retailer.example", "Access-Control-Request-Method": "GET"}
    plain = server.request("OPTIONS", path, headers=headers)
    short = server.request("OPTIONS", _compressed(path), headers=headers)
    assert plain.status_code == short.status_code == 204
    assert _without_same_as(short.headers) == _without_same_as(plain.headers)
    assert _same_as(short) == [server.base + path]


@pytest.mark.parametrize("segment", [
    "CwDkLI1IIM4HxZyf2pCAj",  # the label's, one bit changed: padding
    "CwDkLI1IIM4HxZyf2pCA",  # truncated
    "ABeRcNWtKMPA",  # a valid compressed SSCC: no GTIN, nothing the resolver answers
    "AAAAAAAAAAAA", "NfiglJ5m7yVBIPrDKjawz4", "wp-login-php", "administrator",
])
def test_a_segment_that_is_no_compressed_gtin_uri_is_an_unknown_path(
        server: Server, segment: str) -> None:
    unknown = server.get("/no/such/page")
    page = server.get("/" + segment)
    assert page.status_code == unknown.status_code == 404
    assert page.text == unknown.text and "<h1>404</h1>" in page.text
    problem = server.get("/" + segment, headers={"Accept": "application/json"})
    assert problem.status_code == 404
    assert problem.headers["Content-Type"] == "application/problem+json"
    assert problem.json() == server.get("/no/such/page",
                                        headers={"Accept": "application/json"}).json()
    assert "Link" not in page.headers


@pytest.mark.parametrize(("method", "path", "status", "text"), [
    ("GET", "/login", 200, 'name="password"'),
    ("GET", "/healthz", 200, ""),
    ("GET", "/print-shop", 302, ""),  # ten base64url characters: a real page wins
    ("POST", "/print-shop", 405, ""),
    ("GET", "/logout", 405, ""),  # POST only: still 405, not 404
    ("GET", "/static/style.css", 200, ""),
])
def test_the_registrys_own_pages_are_untouched(server: Server, method: str, path: str,
                                               status: int, text: str) -> None:
    response = server.request(method, path)
    assert response.status_code == status, response.text[:300]
    assert text in response.text
    assert "owl:sameAs" not in response.headers.get("Link", "")
