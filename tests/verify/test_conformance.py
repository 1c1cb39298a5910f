"""Issue 14: the registry is a GS1-Conformant resolver (GS1-Conformant Resolver standard 1.2).

The criteria GS1's own test suite checks (gs1/GS1DL-resolver-testsuite; run it by hand with
conformance/run_gs1_suite.py), checked here the same way over real HTTP: the app is served by
werkzeug's server on a loopback port whose address is its PUBLIC_HOST, and every request goes
through ``requests`` without following redirects, as the suite's PHP helper does with curl.
GS1's published schemas (description file, linkset) and ratified link types are in
``schemas_gs1/``.

"Today" (before): no CORS anywhere, ``linkType=linkset`` 404, a plain request answered the page
(200) instead of redirecting to the default link, redirects dropped the query, ``/01/{gtin}``
and ``/01/{gtin}/10/{lot}`` and a trailing slash answered 400, and anchors reflected the
request's Host header.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import pytest
import requests
from flask import Flask
from sqlmodel import Session, func, select
from werkzeug.serving import make_server

from conftest import World
from registry import create_app
from registry.gs1 import digital_link as gs1
from registry.verify.models import Scan
from tests.verify.verify_support import signed_labels

GS1_SCHEMAS = Path(__file__).with_name("schemas_gs1")
OWN_SCHEMAS = Path(__file__).resolve().parents[2] / "registry" / "verify" / "schemas"
LINKSET = "application/linkset+json"
JSON_LD_CONTEXT = 'rel="http://www.w3.org/ns/json-ld#context"'


def gs1_schema(name: str) -> dict[str, Any]:
    return json.loads((GS1_SCHEMAS / name).read_text("utf-8"))


class Server:
    def __init__(self, base: str, app: Flask) -> None:
        self.base, self.app = base, app

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return requests.get(self.base + path, timeout=10, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.base + path, allow_redirects=False, timeout=10,
                                **kwargs)


@pytest.fixture
def server(app: Flask) -> Iterator[Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    served = create_app({**app.config, "PUBLIC_HOST": f"127.0.0.1:{port}",
                         "PUBLIC_SCHEME": "http", "INSTANCE_PATH": app.instance_path})
    httpd = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{port}", served)
    finally:
        httpd.shutdown()
        thread.join(5)
        served.extensions["engine"].dispose()


@pytest.fixture
def label(server: Server, world: World, db: Session) -> str:
    """A real label URI on the served registry (path and signature query)."""
    uri = signed_labels(server.app, world, db, 2)[0]
    parts = urlsplit(uri)
    assert f"{parts.scheme}://{parts.netloc}" == server.base
    return parts.path + "?" + parts.query


def _path(label: str) -> str:
    return label.split("?")[0]


def _linkset(server: Server, path: str) -> dict[str, Any]:
    response = server.get(path + "?linkType=linkset")
    assert response.status_code == 200, response.text[:300]
    return response.json()  # type: ignore[no-any-return]


def _links(linkset: dict[str, Any], anchor: str) -> dict[str, list[dict[str, Any]]]:
    for entry in linkset["linkset"]:
        if entry["anchor"] == anchor:
            return {k.replace("https://gs1.org/voc/", "gs1:"): v for k, v in entry.items()
                    if k not in ("anchor", "itemDescription")}
    raise AssertionError(f"no anchor {anchor} in {linkset}")


# ---------------------------------------------------------------- description file, HTTP


def test_resolver_description_file_validates_and_allows_cors(server: Server) -> None:
    response = server.get("/.well-known/gs1resolver", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    jsonschema.Draft7Validator(gs1_schema("description-file-schema.json")).validate(body)
    assert body["resolverRoot"] == server.base
    assert body["supportedPrimaryKeys"] == ["01"]
    # A forged Host header is not reflected: the root is PUBLIC_HOST.
    forged = server.get("/.well-known/gs1resolver", headers={"Host": "evil.example"})
    assert forged.json()["resolverRoot"] == server.base


def test_get_head_and_options_with_cors(server: Server, label: str) -> None:
    for method in ("GET", "HEAD"):
        response = server.request(method, label)
        assert response.status_code == 307
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        allowed = response.headers["Access-Control-Allow-Methods"]
        assert all(m in allowed for m in ("GET", "HEAD", "OPTIONS"))
    preflight = server.request("OPTIONS", label, headers={
        "Origin": "https://retailer.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204
    assert "Content-Length" not in preflight.headers  # RFC 9110 §8.6: never on a 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "OPTIONS" in preflight.headers["Access-Control-Allow-Methods"]


def test_malformed_uris_answer_400_never_200(server: Server, label: str) -> None:
    for path in (_path(label) + "/foo", "/01/123", "/01/09506000134352/10/A%ZZ",
                 "/01/09506000134352/21/1/10/A"):
        response = server.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 400, path
        assert response.headers["Content-Type"] == "application/problem+json"
        # A person gets the "not a label code of the registry" page, with the same status.
        page = server.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 400 and "not a label code" in page.text


def test_a_trailing_slash_is_tolerated(server: Server, label: str) -> None:
    plain, slashed = server.get(_path(label)), server.get(_path(label) + "/")
    assert (plain.status_code, plain.headers["Location"]) == (
        slashed.status_code, slashed.headers["Location"])


def test_unknown_qualifier_values_walk_up_never_404(server: Server, label: str) -> None:
    link = gs1.parse_uri(label)
    for path in (f"/01/{link.gtin}/10/{link.lot}/21/999999", f"/01/{link.gtin}/10/NO-SUCH-LOT",
                 f"/01/{link.gtin}/21/12345", f"/01/{link.gtin}"):
        assert server.get(path).status_code == 307, path


# ---------------------------------------------------------------- the linkset


@pytest.mark.parametrize("how", ["linkType=linkset", "linkType=all", "accept"])
def test_the_linkset_is_answered_without_redirect_and_validates(
        server: Server, label: str, how: str) -> None:
    path = _path(label)
    response = (server.get(path, headers={"Accept": LINKSET}) if how == "accept"
                else server.get(f"{path}?{how}"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(LINKSET)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    links = requests.utils.parse_header_links(response.headers["Link"])  # type: ignore[attr-defined]
    assert any(JSON_LD_CONTEXT in f'rel="{link.get("rel")}"'
               and link.get("type") == "application/ld+json" for link in links)
    body = response.json()
    jsonschema.Draft7Validator(gs1_schema("gs1-linkset-schema.json")).validate(body)
    jsonschema.Draft202012Validator(json.loads(
        (OWN_SCHEMAS / "linkset.schema.json").read_text("utf-8"))).validate(body)
    # Every level up to the primary key, each anchored at its uncompressed URI on
    # PUBLIC_HOST.
    link = gs1.parse_uri(label)
    assert [e["anchor"] for e in body["linkset"]] == [
        server.base + path, f"{server.base}/01/{link.gtin}/10/{link.lot}",
        f"{server.base}/01/{link.gtin}"]


def test_each_level_has_exactly_one_plain_default_link_and_ratified_link_types(
        server: Server, label: str) -> None:
    ratified = gs1_schema("linktypes.json")
    for entry in _linkset(server, _path(label))["linkset"]:
        defaults = entry["https://gs1.org/voc/defaultLink"]
        assert len(defaults) == 1 and set(defaults[0]) == {"href", "title"}
        for key, targets in entry.items():
            if key in ("anchor", "itemDescription"):
                continue
            assert key.removeprefix("https://gs1.org/voc/") in ratified, key
            assert all(t["title"] and t["href"].startswith(server.base) for t in targets)


def test_anchors_and_links_never_reflect_the_host_header(server: Server, label: str) -> None:
    response = server.get(_path(label) + "?linkType=linkset",
                          headers={"Host": "evil.example"})
    assert "evil.example" not in response.text
    redirect = server.get(label, headers={"Host": "evil.example"})
    assert redirect.headers["Location"].startswith(server.base)
    assert "evil.example" not in redirect.headers["Link"]


# ---------------------------------------------------------------- redirects


def test_a_plain_request_redirects_to_the_default_link_with_the_linkset_in_link(
        server: Server, label: str) -> None:
    path = _path(label)
    default = _links(_linkset(server, path), server.base + path)["gs1:defaultLink"][0]["href"]
    response = server.get(path)
    assert response.status_code == 307
    assert response.headers["Location"] == default
    assert default.startswith(server.base + "/verify/01/")
    header = response.headers["Link"]
    assert 'rel="linkset"' in header and "rel=\"gs1:" not in header
    # The scanned label keeps its signature through the redirect.
    signed = server.get(label)
    assert signed.headers["Location"] == server.base + "/verify" + label


@pytest.mark.parametrize(("link_type", "level"), [
    ("gs1:defaultLink", 0), ("gs1:verificationService", 0), ("gs1:certificationInfo", 1),
    ("gs1:epcis", 1), ("gs1:pip", 2)])
def test_each_link_type_redirects_to_its_target_short_and_full_uri(
        server: Server, label: str, link_type: str, level: int) -> None:
    path = _path(label)
    linkset = _linkset(server, path)
    anchor = linkset["linkset"][level]["anchor"]
    target = _links(linkset, anchor)[link_type][0]["href"]
    for name in (link_type, link_type.replace("gs1:", "https://gs1.org/voc/"),
                 link_type.replace("gs1:", "https://ref.gs1.org/voc/")):
        response = server.get(f"{path}?linkType={quote(name, safe='')}")
        assert response.status_code == 307, name
        assert response.headers["Location"] == target, name


def test_the_json_verification_link_is_chosen_by_the_accept_header(
        server: Server, label: str) -> None:
    response = server.get(_path(label) + "?linkType=gs1:verificationService",
                          headers={"Accept": "application/json"})
    assert response.status_code == 307
    page = requests.get(response.headers["Location"], headers={"Accept": "application/json"},
                        timeout=10)
    assert page.status_code == 200 and page.json()["verdict"] == "not_genuine"  # no s=


def test_an_unavailable_link_type_answers_404(server: Server, label: str) -> None:
    for name in ("gs1:nosuchlt", "gs1:recipeInfo", "https://example.org/voc/pip"):
        assert server.get(f"{_path(label)}?linkType={quote(name, safe='')}").status_code == 404


def test_the_query_string_is_passed_on(server: Server, label: str) -> None:
    response = server.get(label + "&foo=bar&lang=ja")
    location = response.headers["Location"]
    assert "foo=bar" in location and "lang=ja" in location and "s=" in location
    typed = server.get(_path(label) + "?linkType=gs1:pip&foo=bar")
    assert "foo=bar" in typed.headers["Location"] and "linkType" not in typed.headers["Location"]


# ---------------------------------------------------------------- behind the redirect


def test_following_the_redirect_verifies_the_label_and_counts_one_scan(
        server: Server, label: str, db: Session) -> None:
    before = db.exec(select(func.count()).select_from(Scan)).one()
    response = requests.get(server.base + label + "&lang=id", timeout=10)
    assert response.history[0].status_code == 307
    assert response.status_code == 200 and 'lang="id"' in response.text
    assert 'class="verdict ok"' in response.text
    server.app.extensions["scan_buffer"].flush()
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Scan)).one() == before + 1


@pytest.mark.parametrize("lang", ["en", "id", "zh", "ja"])
def test_walk_up_pages_for_the_product_and_the_lot(server: Server, label: str,
                                                   lang: str) -> None:
    link = gs1.parse_uri(label)
    for path, fact in ((f"/01/{link.gtin}", "Sumbawa Honey"),
                       (f"/01/{link.gtin}/10/{link.lot}", link.lot)):
        response = requests.get(server.base + path, headers={"Accept-Language": lang},
                                timeout=10)
        assert response.history[0].status_code == 307
        assert response.status_code == 200, (path, response.text[:500])
        assert f'<html lang="{lang}">' in response.text and fact in response.text
        assert 'rel="linkset"' in response.headers["Link"]
    missing = requests.get(f"{server.base}/01/{gs1.registry_gtin(999)}", timeout=10)
    assert missing.status_code == 404
