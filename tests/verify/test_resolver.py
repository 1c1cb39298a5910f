"""The resolver end to end: real labels from a real print job's PDF, requested over HTTP.

Every verdict of the page is reached from a label URI decoded from the pixels of the PDF the
print shop downloads; tampered, invented and malformed URIs never pass and never crash.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session
from verify_support import label_path, path_of, printed_labels, schema, signed_labels

from conftest import World
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.clock import today, utcnow
from registry.gs1 import digital_link as gs1
from registry.gs1.digital_link import parse_uri
from registry.signing import keys
from registry.verify.models import Scan

JSON = {"Accept": "application/json"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def labels(make_client: Any, world: World, db: Session) -> list[str]:
    """Three labels (serials 1-3) of company A's certified batch, decoded from the PDF."""
    return printed_labels(make_client, world, db, quantity=3)


@pytest.fixture
def quick(app: Flask, world: World, db: Session) -> list[str]:
    """The same three labels, signed without the PDF round trip (for HTTP-level tests)."""
    return signed_labels(app, world, db, quantity=3)


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    """A buyer's phone: no session, no login."""
    return app.test_client()


def _on_page(path: str) -> str:
    """A label path's verification page (the resolver's default link); pages stay pages."""
    return "/verify" + path if path.startswith("/01/") else path


def _page(http: FlaskClient, path: str, **headers: str) -> tuple[int, str]:
    response = http.get(_on_page(path), headers={**ENGLISH, **headers})
    return response.status_code, response.get_data(as_text=True)


def _verdict(http: FlaskClient, path: str, **kwargs: Any) -> dict[str, Any]:
    response = http.get(_on_page(path), headers=JSON, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    jsonschema.validate(body, schema("verification.schema.json"))
    return body


def _headline(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, html[:2000]
    return match.group(1).strip()


def _signed(app: Flask, gtin: str, lot: str, serial: str) -> str:
    """A label URI signed with the registry's real active key (as the printing code does)."""
    with app.app_context():
        return keys.signer().label_uri(app.config["PUBLIC_HOST"], gtin, lot, serial,
                                       app.config["PUBLIC_SCHEME"])


def _batch(world: World) -> Batch:
    world.session.refresh(world.batch_a)
    return world.batch_a


# ---------------------------------------------------------------- the verdicts


def test_genuine_and_certified(http: FlaskClient, labels: list[str]) -> None:
    status, html = _page(http, path_of(labels[0]))
    assert status == 200
    assert _headline(html) == "Genuine and certified"
    assert 'class="verdict ok"' in html
    # The facts a buyer compares with the package in hand.
    for fact in ("Sumbawa Honey", "Kabupaten Sumbawa, Nusa Tenggara Barat",
                 "Koperasi Batu Dulang", "A-LOT-1", "Company A", "Office 52", "Netherlands",
                 "1,200 kg"):
        assert fact in html, fact
    body = _verdict(http, path_of(labels[0]))
    assert body["verdict"] == "genuine" and body["signals"] == []
    assert body["label"]["serial"] == "1" and body["label"]["signature"] == "valid"
    assert body["batch"]["status"] == "approved"


def test_every_printed_label_is_genuine(http: FlaskClient, labels: list[str]) -> None:
    assert [int(parse_uri(u).serial) for u in labels] == [1, 2, 3]
    for uri in labels:
        assert _verdict(http, path_of(uri))["verdict"] == "genuine"


def test_certification_suspended(http: FlaskClient, labels: list[str], world: World) -> None:
    world.decide(_batch(world), world.officer_ntb, Action.SUSPEND,
                 reason="Residue test pending")
    status, html = _page(http, path_of(labels[0]))
    assert status == 200
    assert _headline(html) == "Certification suspended"
    assert 'class="verdict warn"' in html
    assert "Reason: \u2068Residue test pending\u2069" in html  # isolated (FSI … PDI)
    body = _verdict(http, path_of(labels[0]))
    assert body["verdict"] == "suspended" and body["signals"] == ["batch_suspended"]
    assert body["batch"]["suspension_reason"] == "Residue test pending"


def test_revoked_with_reason_flips_at_once(http: FlaskClient, labels: list[str],
                                           world: World) -> None:
    path = path_of(labels[1])
    assert _headline(_page(http, path)[1]) == "Genuine and certified"
    world.decide(_batch(world), world.officer_ntb, Action.REVOKE,
                 reason="Honey adulterated with cane sugar")
    # The very next request says so: no cache in between.
    status, html = _page(http, path)
    assert status == 200
    assert _headline(html) == "Certification revoked"
    assert 'class="verdict bad"' in html
    assert "Reason: \u2068Honey adulterated with cane sugar\u2069" in html
    body = _verdict(http, path)
    assert body["verdict"] == "revoked" and body["signals"] == ["batch_revoked"]
    assert body["batch"]["revocation_reason"] == "Honey adulterated with cane sugar"


def test_expired(http: FlaskClient, labels: list[str], world: World, db: Session) -> None:
    batch = _batch(world)
    batch.valid_until = today() - dt.timedelta(days=1)
    db.add(batch)
    db.commit()
    status, html = _page(http, path_of(labels[0]))
    assert status == 200
    assert _headline(html) == "Certification expired"
    assert "The certification of this batch ended on" in html
    body = _verdict(http, path_of(labels[0]))
    assert body["verdict"] == "expired" and body["signals"] == ["batch_expired"]


def test_serial_never_printed_is_not_genuine(app: Flask, http: FlaskClient,
                                             labels: list[str]) -> None:
    link = parse_uri(labels[0])
    # A perfect signature from the registry's own key, for a serial no print job allocated.
    for serial in ("4", "999", "9999999999"):
        uri = _signed(app, link.gtin, link.lot, serial)
        status, html = _page(http, path_of(uri))
        assert status == 200
        assert _headline(html) == "Not a genuine label"
        assert "never printed a label with this serial number" in html
        assert "Sumbawa Honey" not in html  # nothing about the batch leaks to a fake
        body = _verdict(http, path_of(uri))
        assert body == {**body, "verdict": "not_genuine", "signals": ["never_printed"],
                        "batch": None}


def test_unknown_code_is_not_genuine(app: Flask, http: FlaskClient, quick: list[str]) -> None:
    link = parse_uri(quick[0])
    unknown = [
        _signed(app, gs1.registry_gtin(987654), link.lot, "1"),  # no such product
        _signed(app, link.gtin, "NO-SUCH-LOT", "1"),  # no such lot of the product
        _signed(app, "08991234567891", "A-LOT-1", "1"),  # a real GTIN nobody registered
    ]
    for uri in unknown:
        status, html = _page(http, path_of(uri))
        assert status == 200
        assert _headline(html) == "Not a genuine label"
        assert "knows no product or batch with this code" in html
        assert _verdict(http, path_of(uri))["signals"] == ["unknown_code"]


def test_uncertified_batch_is_not_genuine(app: Flask, http: FlaskClient, world: World) -> None:
    """A validly signed URI for a batch that was never certified: no label was ever printed."""
    uri = _signed(app, gs1.registry_gtin(world.product_b.id), "B-LOT-1", "1")
    body = _verdict(http, path_of(uri))
    assert body["verdict"] == "not_genuine" and body["batch"] is None


def test_bad_signature_is_not_genuine(http: FlaskClient, labels: list[str]) -> None:
    one, two = parse_uri(labels[0]), parse_uri(labels[1])
    # Serial 2's genuine signature moved onto serial 1's path.
    assert one.key_id and two.signature
    swapped = gs1.canonical_path(one.gtin, one.lot, one.serial) + "?s=" + \
        gs1.pack_signature(one.key_id, two.signature)
    status, html = _page(http, swapped)
    assert status == 200
    assert _headline(html) == "Not a genuine label"
    assert "digital signature does not match" in html
    assert _verdict(http, swapped)["signals"] == ["bad_signature"]
    # No signature at all.
    unsigned = path_of(labels[0]).split("?")[0]
    assert _verdict(http, unsigned)["verdict"] == "not_genuine"


def test_foreign_key_is_not_genuine(app: Flask, http: FlaskClient, quick: list[str],
                                    tmp_path: Any) -> None:
    from registry.signing.keydir import KeyDir

    link = parse_uri(quick[0])
    store = KeyDir(tmp_path / "forger")
    store.create_key()
    forged = store.active_signer().label_uri("127.0.0.1:5000", link.gtin, link.lot, link.serial,
                                             "http")
    _status, html = _page(http, path_of(forged))
    assert _headline(html) == "Not a genuine label"
    assert "not signed with a key of the registry" in html
    assert _verdict(http, path_of(forged))["signals"] == ["unknown_key"]


def test_rotated_key_still_verifies_revoked_key_does_not(app: Flask, http: FlaskClient,
                                                         quick: list[str]) -> None:
    with app.app_context():
        store = keys.keystore()
        old = store.active_signer().kid
        store.rotate()
    assert _verdict(http, path_of(quick[0]))["verdict"] == "genuine"  # retired key: valid
    with app.app_context():  # leaked before the label was printed: void
        keys.keystore().revoke(old, effective=utcnow() - dt.timedelta(hours=1))
    _status, html = _page(http, path_of(quick[0]))
    assert _headline(html) == "Not a genuine label"
    assert "key that the registry has withdrawn" in html
    assert _verdict(http, path_of(quick[0]))["signals"] == ["revoked_key"]


# ---------------------------------------------------------------- tampering


def _other(c: str) -> str:
    """A different character of the same kind, so the URI stays plausible."""
    for alphabet in (string.digits, string.ascii_uppercase, string.ascii_lowercase):
        if c in alphabet:
            return alphabet[(alphabet.index(c) + 1) % len(alphabet)]
    return {"-": "_", "_": "-", "/": "x", "?": "&", "=": "-", "&": "="}.get(c, "x")


def test_tampering_any_character_never_passes(http: FlaskClient, labels: list[str]) -> None:
    """Change each character of the path and of the signature, one at a time: the answer is
    NOT A GENUINE LABEL, a 400 page or a 404, never genuine and never a server error."""
    original = path_of(labels[1])
    outcomes: dict[str, int] = {}
    for i, c in enumerate(original):
        tampered = original[:i] + _other(c) + original[i + 1:]
        assert tampered != original
        for accept in ("text/html", "application/json"):
            response = http.get(tampered, headers={**ENGLISH, "Accept": accept})
            status = response.status_code
            assert status in (200, 400, 404), (i, tampered, status)
            if status == 200:
                if accept == "application/json":
                    body = response.get_json()
                    assert body["verdict"] == "not_genuine", (i, tampered, body)
                else:
                    html = response.get_data(as_text=True)
                    assert _headline(html) == "Not a genuine label", (i, tampered)
            elif status == 400 and accept == "text/html":
                assert "Not a genuine label" in response.get_data(as_text=True)
            outcomes[f"{status}"] = outcomes.get(f"{status}", 0) + 1
    # Both kinds of failure happen: structural ones (400/404) and signature ones (200).
    assert outcomes.get("200") and outcomes.get("400")
    # Every position of the 96-character signature field was tried.
    assert len(original) - original.index("?s=") - 3 == gs1.SIGNATURE_FIELD_LENGTH


# ---------------------------------------------------------------- possible copies


@pytest.fixture
def copy_thresholds(app: Flask) -> None:
    app.config.update(COPY_DISTINCT_CLIENTS=3, COPY_SCANS_IN_WINDOW=5, COPY_WINDOW_MINUTES=10)


def test_same_serial_from_many_clients_is_a_possible_copy(
    app: Flask, copy_thresholds: None, labels: list[str],
) -> None:
    path = path_of(labels[0])
    seen = []
    for n in range(1, 4):
        phone = app.test_client()
        phone.environ_base.update(REMOTE_ADDR=f"198.51.{n}.10")  # a network each
        response = phone.get(path, headers={**ENGLISH, "User-Agent": f"Phone {n}"})
        seen.append(_headline(response.get_data(as_text=True)))
        if n == 2:
            app.extensions["scan_buffer"].flush()  # count written and buffered scans alike
    assert seen == ["Genuine and certified", "Genuine and certified", "Possible copy"]
    _status, html = _page(app.test_client(), path)
    assert _headline(html) == "Possible copy"
    assert "The label on your package may be a copy." in html
    body = _verdict(app.test_client(), path)
    assert body["verdict"] == "possible_copy" and "many_clients" in body["signals"]
    # Another serial of the same batch is not affected.
    assert _verdict(app.test_client(), path_of(labels[1]))["verdict"] == "genuine"


def test_one_buyer_scanning_on_several_days_is_not_a_copy(
    app: Flask, copy_thresholds: None, quick: list[str], world: World, db: Session,
) -> None:
    """Client hashes change daily: scans from earlier days must not add up to many clients."""
    link = parse_uri(quick[0])
    now = dt.datetime.now(dt.UTC)
    for days_ago in range(1, 6):  # five earlier days, a new hash each day
        db.add(Scan(created_at=now - dt.timedelta(days=days_ago), batch_id=_batch(world).id,
                    gtin=link.gtin, lot=link.lot, serial=link.serial,
                    serial_number=link.serial_number, verdict="genuine", language="en",
                    mobile=True, client=f"{days_ago:016x}"))
    db.commit()
    assert _verdict(app.test_client(), path_of(quick[0]))["verdict"] == "genuine"


def test_same_serial_scanned_too_often_is_a_possible_copy(
    app: Flask, copy_thresholds: None, labels: list[str],
) -> None:
    app.config.update(COPY_DISTINCT_CLIENTS=100)  # the frequency signal alone
    first, second = app.test_client(), app.test_client()
    first.environ_base.update(REMOTE_ADDR="198.51.1.10")
    second.environ_base.update(REMOTE_ADDR="198.51.2.10")
    path = path_of(labels[2])
    verdicts = [_verdict(first, path)["verdict"] for _ in range(3)]
    app.extensions["scan_buffer"].flush()
    verdicts.append(_verdict(second, path)["verdict"])
    assert verdicts == ["genuine"] * 4
    body = _verdict(second, path)  # the fifth scan within ten minutes
    assert body["verdict"] == "possible_copy" and body["signals"] == ["too_frequent"]
    # One phone alone never gets there: its rows of one label are bounded (SCAN_ROWS_PER_SERIAL).
    alone = app.test_client()
    alone.environ_base.update(REMOTE_ADDR="198.51.3.10")
    assert {_verdict(alone, path_of(labels[1]))["verdict"] for _ in range(8)} == {"genuine"}


def test_revocation_outranks_copy_signals(app: Flask, copy_thresholds: None,
                                          quick: list[str], world: World) -> None:
    phones = [app.test_client() for _ in range(3)]
    for n, phone in enumerate(phones):
        phone.environ_base.update(REMOTE_ADDR=f"198.51.{n}.10")
        phone.get(path_of(quick[0]), headers=JSON)
    assert _verdict(phone, path_of(quick[0]))["verdict"] == "possible_copy"
    world.decide(_batch(world), world.officer_ntb, Action.REVOKE, reason="Fraud")
    assert _verdict(phone, path_of(quick[0]))["verdict"] == "revoked"


# ---------------------------------------------------------------- JSON, linkset, negotiation


def test_json_and_linkset_validate_against_the_schemas(http: FlaskClient, quick: list[str],
                                                       app: Flask) -> None:
    link = parse_uri(quick[0])
    labels = [label_path(quick[0]), label_path(_signed(app, link.gtin, link.lot, "777")),
              label_path(quick[0]).split("?")[0]]
    for label in labels:
        _verdict(http, "/verify" + label)  # validates
        path = label.split("?")[0]
        for how in ({"query_string": {"linkType": "linkset"}},
                    {"headers": {"Accept": "application/linkset+json"}}):
            response = http.get(path, **how)
            assert response.status_code == 200
            assert response.mimetype == "application/linkset+json"
            body = json.loads(response.get_data(as_text=True))
            jsonschema.validate(body, schema("linkset.schema.json"))
            entry = body["linkset"][0]
            assert entry["anchor"].endswith(gs1.canonical_path(link.gtin, link.lot,
                                                               parse_uri(label).serial))
            assert "?" not in entry["anchor"]


def test_schemas_are_valid_json_schemas() -> None:
    for name in ("verification.schema.json", "linkset.schema.json"):
        jsonschema.Draft202012Validator.check_schema(schema(name))
    # And they are strict: a leaked field does not validate.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"verdict": "genuine", "signals": [], "label": {},
                             "batch": None, "links": {}, "client": "x"},
                            schema("verification.schema.json"))


@pytest.mark.parametrize(("accept", "kind"), [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
    ("*/*", "html"),
    ("", "html"),
    ("application/json", "json"),
    ("application/json, text/plain, */*", "json"),
    ("text/html;q=0.5, application/json", "json"),
    ("application/json;q=0.5, text/html", "html"),
])
def test_accept_negotiation(http: FlaskClient, quick: list[str], accept: str,
                            kind: str) -> None:
    response = http.get(path_of(quick[0]), headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    expected = {"html": "text/html", "json": "application/json"}[kind]
    assert response.mimetype == expected
    assert "Accept" in response.headers["Vary"]
    assert 'rel="linkset"' in response.headers["Link"]


def test_gs1resolver_description(http: FlaskClient) -> None:
    response = http.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    body = response.get_json()
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedLinkType"] == [{"namespace": "https://gs1.org/voc/",
                                          "prefix": "gs1:"}]
    assert body["signatureKeys"].endswith("/.well-known/registry-keys.json")


def test_published_keys_list_retired_and_revoked_keys(app: Flask, http: FlaskClient,
                                                      quick: list[str]) -> None:
    with app.app_context():
        store = keys.keystore()
        first = store.active_signer().kid
        second = store.rotate()
        third = store.rotate()
        store.revoke(second)
    response = http.get("/.well-known/registry-keys.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    published = {k["kid"]: k for k in response.get_json()["keys"]}
    assert set(published) == {first, second, third}
    assert published[first]["status"] == "retired" and published[first]["retired_at"]
    assert published[first]["revoked_at"] is None
    assert published[second]["status"] == "revoked" and published[second]["revoked_at"]
    assert published[third]["status"] == "active"
    assert all(set(k) >= {"kid", "alg", "public_key", "created"} for k in published.values())
    text = response.get_data(as_text=True)
    assert "PRIVATE" not in text and "private" not in text


# ---------------------------------------------------------------- bad input, headers


BAD_PATHS = [
    "/01/",
    "/01/123",
    "/01/00490000000017/10/A-LOT-1/21/1",  # check digit
    "/01/0049000000001X/10/A-LOT-1/21/1",
    "/01/00490000000016/21/1/10/A-LOT-1",  # AIs out of order
    "/01/00490000000016/10/A-LOT-1/21/1/22/x",
    "/01/00490000000016/10/AAAAAAAAAAAAAAAAAAAAA/21/1",  # lot of 21 characters
    "/01/00490000000016/10/A%ZZ/21/1",
    # Well-formed Digital Link URIs (the resolver redirects them) whose page refuses the
    # registry's signature parameter or data attributes.
    "/verify/01/00490000000016/10/A-LOT-1/21/1?s=short",
    "/verify/01/00490000000016/10/A-LOT-1/21/1?s=a&s=b",
    "/verify/01/00490000000016/10/A-LOT-1/21/1?17=301231",
    "/01/00490000000016/10/%E2%82%AC/21/1",
    "/01/00490000000016/10/A-LOT-1/21/%00",
    "/01/../../etc/passwd",
    "/01/%2e%2e/%2e%2e/10/x/21/1",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_malformed_uris_get_a_clear_400(http: FlaskClient, path: str) -> None:
    response = http.get(path, headers=ENGLISH)
    # 422: a NUL character is refused for every route before the resolver sees it.
    assert response.status_code in (400, 404, 422), path
    html = response.get_data(as_text=True)
    if response.status_code == 400:
        assert "Not a genuine label" in html
        assert "not a label code of the Made in Bali–NTB–NTT registry" in html
        problem = http.get(path, headers=JSON)
        assert problem.status_code == 400
        assert problem.mimetype == "application/problem+json"
        assert problem.get_json()["status"] == 400


def test_unknown_paths_404(http: FlaskClient) -> None:
    for path in ("/02/00490000000016/10/A/21/1", "/01", "/gtin/00490000000016"):
        response = http.get(path)
        assert response.status_code == 404


PATH_CHARS = st.sampled_from([*(string.ascii_letters + string.digits + "-._~%/?&=+!*'(),;:@"
                                 "\"<>[]{}|\\^` "), "%00", "%2F", "%25", "é", "€", "\t"])


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.lists(PATH_CHARS, max_size=60).map("".join),
       query=st.one_of(st.none(), st.text(max_size=120)))
def test_fuzzed_paths_never_crash(app: Flask, tail: str, query: str | None) -> None:
    path = "/01/" + tail
    if query is not None:
        path += "?" + query
    response = app.test_client().get(path, headers={"Accept-Language": "en"})
    # 308: werkzeug merges doubled slashes with a redirect.
    assert response.status_code in (200, 303, 308, 400, 404, 405, 422), (path, response.status_code)
    if response.status_code == 200:
        # Without a real signature nothing can be genuine.
        assert "Genuine and certified" not in response.get_data(as_text=True)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lot=st.text(min_size=1, max_size=24), serial=st.text(min_size=1, max_size=24),
       gtin=st.from_regex(r"[0-9]{8,14}", fullmatch=True))
def test_fuzzed_label_shaped_paths_never_crash(app: Flask, gtin: str, lot: str,
                                               serial: str) -> None:
    from urllib.parse import quote

    path = f"/01/{gtin}/10/{quote(lot, safe='')}/21/{quote(serial, safe='')}"
    for accept in ("text/html", "application/json"):
        # The resolver redirects a well-formed code to its page, refuses the rest.
        response = app.test_client().get(path, headers={"Accept": accept})
        assert response.status_code in (307, 400, 404, 422), (path, response.status_code)
        response = app.test_client().get("/verify" + path, headers={"Accept": accept})
        assert response.status_code in (200, 400, 404, 422), (path, response.status_code)
        if response.status_code == 200 and accept == "application/json":
            assert response.get_json()["verdict"] == "not_genuine"


def test_page_cannot_be_framed(http: FlaskClient, quick: list[str]) -> None:
    for path in (path_of(quick[0]), "/01/123"):
        response = http.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"


def test_etag_and_304(http: FlaskClient, quick: list[str]) -> None:
    path = path_of(quick[0])
    for headers in (ENGLISH, {**ENGLISH, **JSON}):
        first = http.get(path, headers=headers)
        etag = first.headers["ETag"]
        assert etag and first.headers["Cache-Control"] == "no-cache"
        again = http.get(path, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.get_data() == b""
    # A later request, a second later, still revalidates (the CSRF token's timestamp is not
    # part of the page's identity).
    import time

    etag = http.get(path, headers=ENGLISH).headers["ETag"]
    time.sleep(1.1)
    assert http.get(path, headers={**ENGLISH, "If-None-Match": etag}).status_code == 304


def test_etag_changes_when_the_verdict_does(http: FlaskClient, quick: list[str],
                                            world: World) -> None:
    path = path_of(quick[0])
    etag = http.get(path, headers=ENGLISH).headers["ETag"]
    world.decide(_batch(world), world.officer_ntb, Action.SUSPEND, reason="Check")
    response = http.get(path, headers={**ENGLISH, "If-None-Match": etag})
    assert response.status_code == 200
    assert _headline(response.get_data(as_text=True)) == "Certification suspended"


def test_page_weight_under_100_kb(http: FlaskClient, quick: list[str]) -> None:
    response = http.get(path_of(quick[0]), headers=ENGLISH)
    html = response.get_data()
    assets = re.findall(rb'(?:href|src)="(/(?:static|verify/maps)/[^"]+)"', html)
    assert b"/static/verify.css" in assets and b"/static/mark.svg" in assets
    assert any(asset.startswith(b"/verify/maps/") for asset in assets)  # the origin map
    total = len(html)
    for asset in set(assets):
        static = http.get(asset.decode())
        assert static.status_code == 200
        total += len(static.get_data())
        static.close()
    assert total < 100 * 1024, total
    assert b"<script" not in html  # works without JavaScript because there is none


# ---------------------------------------------------------------- languages


@pytest.mark.parametrize(("headers", "query", "lang", "headline"), [
    ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, "", "zh", "正品，已认证"),
    ({"Accept-Language": "ja-JP,ja;q=0.9"}, "", "ja", "本物・認証済み"),
    ({"Accept-Language": "en-US"}, "&lang=id", "id", "Asli dan tersertifikasi"),
    ({"Accept-Language": "id-ID"}, "", "id", "Asli dan tersertifikasi"),
    ({"Accept-Language": "fr-FR"}, "", "en", "Genuine and certified"),
    ({"Accept-Language": "ja-JP"}, "&lang=zh", "zh", "正品，已认证"),
])
def test_verdict_in_the_readers_language(http: FlaskClient, quick: list[str],
                                         headers: dict[str, str], query: str, lang: str,
                                         headline: str) -> None:
    response = http.get(path_of(quick[0]) + query, headers=headers)
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert _headline(html) == headline
    assert "Accept-Language" in response.headers["Vary"]


def test_language_links_keep_the_label_and_the_choice(http: FlaskClient,
                                                      quick: list[str]) -> None:
    path = path_of(quick[0])
    html = http.get(path + "&lang=ja").get_data(as_text=True)
    links = dict(re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', html))
    by_lang = {v: k.replace("&amp;", "&") for k, v in links.items()}
    assert set(by_lang) == {"en", "id", "zh", "ja"}
    for code, href in by_lang.items():
        assert href == f"{path}&lang={code}"
        assert _headline(http.get(href, headers=ENGLISH).get_data(as_text=True))
    assert 'hreflang="ja" lang="ja" aria-current="true"' in html
    # The way to report a fake keeps the label and the chosen language too.
    report = re.search(r'<p class="report"><a href="([^"]+)"', html)
    assert report
    query = parse_qs(urlsplit(report.group(1).replace("&amp;", "&")).query)
    assert query == {"uri": [f"{path}&lang=ja"], "lang": ["ja"]}


def test_verdicts_are_translated_in_every_language(app: Flask, quick: list[str],
                                                   world: World) -> None:
    """No verdict page falls back to English in zh or ja."""
    http = app.test_client()
    world.decide(_batch(world), world.officer_ntb, Action.SUSPEND, reason="x")
    expected = {"zh": "认证已暂停", "ja": "認証停止中", "id": "Sertifikasi dibekukan"}
    for lang, headline in expected.items():
        html = http.get(path_of(quick[0]) + f"&lang={lang}").get_data(as_text=True)
        assert _headline(html) == headline
        assert "Report a suspected fake" not in html
        assert "This label" not in html


def test_origin_map_is_a_cacheable_image(http: FlaskClient) -> None:
    response = http.get("/verify/maps/52.04.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    assert "max-age=86400" in response.headers["Cache-Control"]
    again = http.get("/verify/maps/52.04.svg", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert http.get("/verify/maps/99.99.svg").status_code == 404
