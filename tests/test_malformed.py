"""Malformed input never gives a 500 and never writes half a record.

Hypothesis throws junk at every id in every route and at every field of the batch, product,
signup, login and decision forms; then the cases a user meets by mistake are checked one by
one for the message they see. A refused request leaves the database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from conftest import PASSWORD, Client, World, batch_form
from registry.accounts.models import Organisation, User
from registry.audit.models import AuditEvent
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document, Product
from registry.clock import today
from registry.review.models import Decision
from registry.web.extensions import limiter

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# Values a form field may receive from a careless user, a broken client or an attacker.
SPECIAL = [
    "", " ", "\x00", "a\x00b", "\t\n", "0", "-1", "-0", "1e400", "1e-400", "NaN", "sNaN",
    "Infinity", "-Infinity", "0x10", "1_000", "١٢٣", str(10**40), str(-(10**40)), str(2**31),
    str(2**63), "99999999999.9999", "0.0001", "2026-02-30", "2026-13-01", "0000-00-00",
    "9999-12-31", "0001-01-01", "31/12/2026", "true", "None", "null", "[]", "{}",
    "<script>alert(1)</script>", "'; DROP TABLE batch; --", "../../etc/passwd", "\u202e", "🐝",
    "x" * 5000, "ü" * 301, "explode",
]
JUNK = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
)

MSG_NUL = "The request contains a NUL character"


def fingerprint(app: Flask, *, with_audit: bool = True) -> tuple[Any, ...]:
    """Every row a form could write, so a refused request can be shown to have written none."""
    models: list[Any] = [Organisation, User, Product, Batch, Document, Decision]
    if with_audit:
        models.append(AuditEvent)
    with app.extensions["engine"].connect() as conn:
        return tuple(
            tuple(tuple(row) for row in conn.execute(select(model.__table__)).all())  # type: ignore[attr-defined]
            for model in models
        )


def body(response: Any) -> str:
    return html.unescape(response.get_data().decode(errors="replace"))


def assert_refused_clearly(response: Any) -> None:
    """A 4xx page, or the form again with at least one error message on it."""
    text = body(response)
    assert response.status_code < 500, text[:3000]
    assert 200 <= response.status_code < 500, response.status_code
    if response.status_code == 200:
        assert 'class="error"' in text or "flash-error" in text, text[:3000]
    else:
        assert (f"<h1>{response.status_code}</h1>" in text or 'class="error"' in text
                or "flash-error" in text), text[:3000]


def signed_in(make_client: Callable[[], Client], email: str) -> Client:
    client = make_client()
    client.login(email)
    return client


# ---------------------------------------------------------------- ids in URLs


def rules_with_ids(app: Flask) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static" and r.arguments]


def fill(rule: Any, token: str) -> str:
    """The rule's path with every variable part replaced by ``token`` (one path segment)."""
    return re.sub(r"<[^>]+>", quote(token, safe=""), rule.rule)


ID_JUNK = st.one_of(
    st.sampled_from([str(10**30), str(2**31), str(2**31 - 1), str(2**63), str(2**64), "-1",
                     "0", "00000000000000000000001", "1" * 5000, "1.5", "1e3", "0x1", "%00",
                     "\x00", "١", "²", " 1", "1 ", "..", "%2e%2e", "null"]),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(max_size=30),
)


@SETTINGS
@given(token=ID_JUNK, data=st.data())
def test_junk_ids_in_urls_never_give_500(token: str, data: st.DataObject, app: Flask,
                                         world: World, make_client: Callable[[], Client],
                                         _clients: dict[str, Client]) -> None:
    rule = data.draw(st.sampled_from(rules_with_ids(app)), label="rule")
    actor = data.draw(st.sampled_from(sorted(_clients)), label="actor")
    client = _clients[actor]
    path = fill(rule, token)
    before = fingerprint(app)
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        response = client.get(path) if method == "GET" else client.post(path, {})
        assert response.status_code < 500, (method, path, body(response)[:2000])
    # An id of nothing (0, 10**30, "abc") must not change anything; a small number may be a
    # real record that the actor may legitimately act on.
    try:
        number = int(token.strip())
    except ValueError:
        number = 0
    if not 0 < number <= 100:
        assert fingerprint(app) == before


@pytest.fixture
def _clients(world: World, make_client: Callable[[], Client]) -> dict[str, Client]:
    return {"exporter_a": signed_in(make_client, "a@test.id"),
            "officer_ntb": signed_in(make_client, "officer.ntb@test.id"),
            "printer": signed_in(make_client, "printer@test.id"),
            "admin": signed_in(make_client, "admin@test.id")}


@pytest.mark.parametrize("number", [10**30, 2**31, 2**63, 2**64, 10**4000])
def test_out_of_range_ids_are_not_found(number: int, app: Flask, world: World,
                                        _clients: dict[str, Client]) -> None:
    before = fingerprint(app)
    for rule in rules_with_ids(app):
        if "<int:" not in rule.rule:
            continue
        path = fill(rule, str(number))
        for actor, client in _clients.items():
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.get(path) if method == "GET" else client.post(path, {})
                # No such record: the URL does not match the route (405 where a rule of
                # another method shares the path; Werkzeug checks the method first).
                assert response.status_code in (404, 405), (actor, method, path)
    assert fingerprint(app) == before


def test_largest_id_is_looked_up_normally(client: Client, world: World) -> None:
    client.login("a@test.id")
    assert client.get(f"/batches/{2**31 - 1}").status_code == 404
    assert client.get(f"/products/{2**31 - 1}/edit").status_code == 404
    assert client.get("/products/-1/edit").status_code == 404
    assert client.get(f"/batches/{world.batch_a.id}").status_code == 200


@SETTINGS
@given(data=st.data())
def test_junk_query_strings_never_give_500(data: st.DataObject, app: Flask, world: World,
                                           _clients: dict[str, Client]) -> None:
    """Every GET route with real ids, plus junk in the query parameters the app reads."""
    ids = {"batch_id": world.batch_a.id, "product_id": world.product_a.id,
           "document_id": 1, "user_id": world.exporter_b.id, "job_id": 1}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static" and "GET" in r.methods]
    rule = data.draw(st.sampled_from(rules), label="rule")
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule)
    params = data.draw(st.dictionaries(
        st.sampled_from(["lang", "next", "stock", "net", "dpi", "page", "q", "status", "s"]),
        JUNK, max_size=4), label="params")
    client = _clients[data.draw(st.sampled_from(sorted(_clients)), label="actor")]
    response = client.get(path + "?" + urlencode(params))
    assert response.status_code < 500, (path, params, body(response)[:2000])


# ---------------------------------------------------------------- forms, by hypothesis


class FormCase:
    """One form: where it posts, who posts it, and a valid submission to spoil."""

    def __init__(self, name: str, actor: str | None, path: Callable[[], str],
                 valid: Callable[[], dict[str, str]]) -> None:
        self.name, self.actor, self.path, self.valid = name, actor, path, valid


def form_cases(world: World, db: Session) -> dict[str, FormCase]:
    lots = (f"HYP-{n}" for n in itertools.count())
    emails = (f"hyp{n}@example.id" for n in itertools.count())
    nibs = (f"{5550000000000 + n}" for n in itertools.count())
    review = {"batch": world.batch_b}

    def submitted_batch() -> int:
        """A submitted NTT batch for officer_ntt; a fresh one once the last was decided."""
        batch = review["batch"]
        db.refresh(batch)
        if batch.status != "submitted":
            batch = world.batch(world.exporter_b, world.product_b, next(lots), "53.09")
            db.commit()
            world.submit(batch, world.exporter_b)
            review["batch"] = batch
        return batch.id  # type: ignore[return-value]

    def decision() -> dict[str, str]:
        batch_id = submitted_batch()
        batch = db.get(Batch, batch_id)
        assert batch is not None
        db.refresh(batch)
        return {"action": "approve", "version": str(batch.version),
                "valid_until": (today() + dt.timedelta(days=200)).isoformat(), "reason": ""}

    def product() -> dict[str, str]:
        return {"name_id": "Garam Amed", "name_en": "Amed Salt", "category": "processed-food",
                "hs_code": "090111", "gtin": "4006381333931", "description": "Sea salt"}

    def signup() -> dict[str, str]:
        return {"company_name": "CV Garam", "nib": next(nibs), "province_code": "51",
                "address": "Amed, Karangasem", "name": "Made", "email": next(emails),
                "password": "garam-amed-bali-2026", "confirm": "garam-amed-bali-2026"}

    world.submit(world.batch_b, world.exporter_b)
    return {
        "batch_new": FormCase("batch_new", "a@test.id", lambda: "/batches/new",
                              lambda: batch_form(world.product_a.id, next(lots))),
        "batch_edit": FormCase("batch_edit", "a@test.id",
                               lambda: f"/batches/{world.batch_a.id}/edit",
                               lambda: batch_form(world.product_a.id, "A-LOT-1")),
        "product_new": FormCase("product_new", "a@test.id", lambda: "/products/new",
                                lambda: {**product(), "gtin": ""}),
        "product_edit": FormCase("product_edit", "a@test.id",
                                 lambda: f"/products/{world.product_a.id}/edit", product),
        "signup": FormCase("signup", None, lambda: "/signup", signup),
        "login": FormCase("login", None, lambda: "/login",
                          lambda: {"email": "a@test.id", "password": PASSWORD, "next": "/"}),
        "decision": FormCase("decision", "officer.ntt@test.id",
                             lambda: f"/review/batches/{review['batch'].id}/decide", decision),
    }


@pytest.fixture
def cases(world: World, db: Session) -> dict[str, FormCase]:
    return form_cases(world, db)


def _spoil(valid: dict[str, str], field: str, how: str, junk: str) -> dict[str, Any]:
    data: dict[str, Any] = dict(valid)
    if how == "drop":
        data.pop(field, None)
    elif how == "twice":
        data[field] = [junk, valid.get(field, "")]
    else:
        data[field] = junk
    return data


@pytest.mark.parametrize("form", ["batch_new", "batch_edit", "product_new", "product_edit",
                                  "signup", "login", "decision"])
def test_junk_in_any_form_field_never_gives_500_or_a_partial_write(
    form: str, cases: dict[str, FormCase], app: Flask, make_client: Callable[[], Client]
) -> None:
    case = cases[form]
    staff = make_client()
    if case.actor:
        staff.login(case.actor)
    fields = sorted(case.valid())

    @SETTINGS
    @given(field=st.sampled_from(fields), how=st.sampled_from(["replace", "replace", "drop",
                                                               "twice"]), junk=JUNK)
    def check(field: str, how: str, junk: str) -> None:
        limiter.reset()  # the login and signup limits would soon answer every example
        # A visitor starts afresh each time (a successful login would end the experiment).
        client = staff if case.actor else make_client()
        valid = case.valid()
        data = _spoil(valid, field, how, junk)
        data["csrf_token"] = client.token(None if case.actor else "/login")
        # A failed login is audited by design; everything else must stay as it was.
        before = fingerprint(app, with_audit=form != "login")
        response = client.http.post(case.path(), data=data)
        if response.status_code in (302, 303):
            return  # the junk happened to be acceptable (e.g. a name of "0"): a normal save
        assert_refused_clearly(response)
        assert fingerprint(app, with_audit=form != "login") == before, (field, how, junk)

    check()


# ---------------------------------------------------------------- the cases users meet


class DaysFromToday(int):
    """A date N days from today (WITA), as the form writes it: worked out when the case is
    sent, not when the module is collected (a run crossing midnight in WITA, 16:00 UTC, made
    "tomorrow" today)."""

    def iso(self) -> str:
        return (today() + dt.timedelta(days=int(self))).isoformat()


def check_cases(app: Flask, cases: list[tuple[Any, ...]],
                send: Callable[[dict[str, str]], Any]) -> None:
    """Send each (overrides, [status,] message) case; report every case that went wrong.

    One database for all cases: each must leave it unchanged, so they cannot affect each other.
    """
    problems = []
    for written, *expect in cases:
        overrides = {k: v.iso() if isinstance(v, DaysFromToday) else v
                     for k, v in written.items()}
        status, message = expect if len(expect) == 2 else (200, expect[0])
        before = fingerprint(app)
        response = send(overrides)
        text = body(response)
        if response.status_code != status:
            problems.append(f"{overrides}: status {response.status_code}, expected {status}")
        if message not in text:
            problems.append(f"{overrides}: no {message!r} on the page")
        if fingerprint(app) != before:
            problems.append(f"{overrides}: the database changed")
    assert not problems, "\n".join(problems)


def post_batch(client: Client, **overrides: str) -> Any:
    return client.post("/batches/new", batch_form(overrides.pop("product_id", "1"),
                                                  overrides.pop("lot_code", "NEW-LOT-1"),
                                                  **overrides))


@pytest.fixture
def exporter(client: Client, world: World) -> Client:
    client.login("a@test.id")
    return client


BATCH_CASES = [
    ({"production_date": "2026-02-30"}, "Not a valid date value."),
    ({"production_date": "yesterday"}, "Not a valid date value."),
    ({"production_date": DaysFromToday(1)},
     "This date cannot be in the future."),
    ({"best_before": DaysFromToday(-30)},
     "Best before cannot be earlier than the production date."),
    ({"quantity": "-5"}, "Number must be between"),
    ({"quantity": "0"}, "Number must be between"),
    ({"quantity": str(10**40)}, "Number must be between"),
    ({"quantity": "abc"}, "Not a valid decimal value."),
    ({"quantity": "NaN"}, "Please enter a number."),
    ({"quantity": "sNaN"}, "Please enter a number."),
    ({"quantity": "Infinity"}, "Please enter a number."),
    ({"declared_value_idr": "-1"}, "Number must be between"),
    ({"declared_value_idr": str(10**40)}, "Number must be between"),
    ({"declared_value_idr": "12.5"}, "Not a valid integer value."),
    ({"unit": "barrels"}, "Not a valid choice"),
    ({"origin_regency_code": "99.99"}, "Not a valid choice"),
    ({"origin_regency_code": "31.71"}, "Not a valid choice"),  # Jakarta: not NTB, NTT or Bali
    ({"hub": "tanjung-priok"}, "Not a valid choice"),
    ({"destination_country": "XX"}, "Not a valid choice"),
    ({"destination_country": "ID"}, "Not a valid choice"),  # an export leaves Indonesia
    ({"product_id": str(10**40)}, "Not a valid choice"),
    ({"product_id": "abc"}, "Invalid Choice"),
    ({"lot_code": "LOT 1"}, "Use up to 20 letters, digits, '-', '.' or '_'."),
    ({"lot_code": "LOT/1"}, "Use up to 20 letters, digits, '-', '.' or '_'."),
    ({"lot_code": "x" * 21}, "Field cannot be longer than 20 characters."),
    ({"lot_code": "A-LOT-1"}, "This value is already registered."),
    ({"producer": "   "}, "This field is required."),
    ({"producer": "p" * 201}, "Field cannot be longer than 200 characters."),
]


def test_batch_form_explains_what_is_wrong(exporter: Client, world: World, app: Flask) -> None:
    def send(overrides: dict[str, str]) -> Any:
        return post_batch(exporter, **{"product_id": str(world.product_a.id), **overrides})

    check_cases(app, BATCH_CASES, send)


def test_large_declared_value_is_stored_exactly(exporter: Client, world: World, app: Flask,
                                                db: Session) -> None:
    """Export lots can be worth more than 2**31 rupiah; the form allows up to 10**15."""
    for lot, value in (("BIG-1", 2**31), ("BIG-2", 10**15)):
        response = post_batch(exporter, product_id=str(world.product_a.id), lot_code=lot,
                              declared_value_idr=str(value))
        assert response.status_code == 302, body(response)[:2000]
        stored = db.exec(select(Batch.declared_value_idr).where(Batch.lot_code == lot)).one()
        assert stored[0] == value


def test_quantity_bounds_are_the_ones_the_message_names(exporter: Client, world: World,
                                                        app: Flask, db: Session) -> None:
    before = fingerprint(app)
    for too_much_or_little in ("0.0009", "99999999999.9991"):
        response = post_batch(exporter, product_id=str(world.product_a.id),
                              quantity=too_much_or_little)
        assert "Number must be between 0.001 and 99999999999.999." in body(response)
    assert fingerprint(app) == before
    for lot, quantity in (("MIN-1", "0.001"), ("MAX-1", "99999999999.999")):
        response = post_batch(exporter, product_id=str(world.product_a.id), lot_code=lot,
                              quantity=quantity)
        assert response.status_code == 302, body(response)[:2000]
        stored = db.exec(select(Batch.quantity).where(Batch.lot_code == lot)).one()
        assert str(stored[0]) == quantity


PRODUCT_CASES = [
    ({"gtin": "4006381333932"}, "This is not a valid GTIN"),  # check digit should be 1
    ({"gtin": "1234567"}, "This is not a valid GTIN"),
    ({"gtin": "40063813339311"[:13] + "x"}, "This is not a valid GTIN"),
    ({"gtin": "1" * 15}, "Field cannot be longer than 14 characters."),
    ({"category": "weapons"}, "Not a valid choice"),
    ({"hs_code": "999999"}, "This is not an HS 2022 code."),
    ({"hs_code": "0901.1"}, "This is not an HS 2022 code."),
    ({"hs_code": ""}, "This field is required."),
    ({"name_en": ""}, "This field is required."),
    ({"name_id": "n" * 301}, "Field cannot be longer than 300 characters."),
    ({"description": "d" * 4001}, "Field cannot be longer than 4000 characters."),
]


@pytest.mark.parametrize("page", ["new", "edit"])
def test_product_form_explains_what_is_wrong(page: str, exporter: Client, world: World,
                                             app: Flask) -> None:
    path = "/products/new" if page == "new" else f"/products/{world.product_a.id}/edit"
    valid = {"name_id": "Garam", "name_en": "Salt", "category": "processed-food",
             "hs_code": "090111", "gtin": "", "description": ""}
    check_cases(app, PRODUCT_CASES, lambda overrides: exporter.post(path, {**valid, **overrides}))


def test_gtin_of_another_product_is_refused(exporter: Client, world: World, db: Session,
                                            app: Flask) -> None:
    world.product(world.exporter_b, "Kopi", "Coffee", gtin="4006381333931")
    db.commit()
    before = fingerprint(app)
    response = exporter.post("/products/new", {
        "name_id": "Garam", "name_en": "Salt", "category": "processed-food",
        "hs_code": "090111", "gtin": "4006381333931", "description": ""})
    assert response.status_code == 200
    assert "This value is already registered." in body(response)
    assert fingerprint(app) == before


SIGNUP = {"company_name": "CV Garam", "nib": "5550000000001", "province_code": "51",
          "address": "Amed", "name": "Made", "email": "made@garam.id",
          "password": "garam-amed-bali-2026", "confirm": "garam-amed-bali-2026"}
# A registered e-mail or NIB is not a mistake the form points out: the sign-up answers as for a
# new one and tells the holders by mail (issue 16 §3; tests/accounts/test_signup.py).
SIGNUP_CASES = [
    ({"nib": "123"}, "The NIB is the 13-digit business number issued by OSS."),
    ({"nib": "12345678901234"}, "The NIB is the 13-digit business number issued by OSS."),
    ({"province_code": "31"}, "Not a valid choice"),
    ({"email": "not-an-email"}, "Invalid email address."),
    ({"password": "short", "confirm": "short"}, "at least 8 characters"),
    ({"password": "password123", "confirm": "password123"}, "too common"),
    ({"confirm": "something-else-entirely"}, "The passwords do not match."),
    ({"company_name": "c" * 201}, "Field cannot be longer than 200 characters."),
]


def test_signup_form_explains_what_is_wrong(client: Client, world: World, app: Flask) -> None:
    check_cases(app, SIGNUP_CASES,
                lambda overrides: client.post("/signup", {**SIGNUP, **overrides},
                                              token_from="/signup"))


def _decide(client: Client, batch_id: int, **fields: str) -> Any:
    return client.post(f"/review/batches/{batch_id}/decide", fields)


@pytest.fixture
def submitted(world: World, db: Session) -> Batch:
    world.submit(world.batch_a, world.exporter_a)
    db.refresh(world.batch_a)
    return world.batch_a


DECISION_CASES = [
    ({"action": "explode"}, 422, "Unknown decision."),
    ({"action": ""}, 422, "This decision could not be read."),
    ({"valid_until": "2026-02-30"}, 422, "Not a valid date value."),
    ({"valid_until": DaysFromToday(-1)}, 422,
     "Choose a validity end date in the future, at most three years ahead."),
    ({"valid_until": DaysFromToday(4 * 366)}, 422,
     "Choose a validity end date in the future, at most three years ahead."),
    ({"valid_until": ""}, 422,
     "Choose a validity end date in the future, at most three years ahead."),
    ({"version": "abc"}, 422, "This decision could not be read."),
    ({"version": ""}, 422, "This decision could not be read."),
    ({"version": str(10**40)}, 409, "another officer decided on this batch"),
    ({"version": "-1"}, 409, "another officer decided on this batch"),
    ({"action": "reject", "reason": "  "}, 422, "Please give a reason"),
    ({"action": "reject", "reason": "r" * 2001}, 422,
     "Field cannot be longer than 2000 characters."),
    ({"action": "reinstate"}, 409, "this decision is not possible in the batch's current state"),
    ({"action": "submit"}, 403, "You do not have access to this page."),  # the exporter's
]


def test_decision_form_explains_what_is_wrong(world: World, submitted: Batch, app: Flask,
                                              make_client: Callable[[], Client]) -> None:
    officer = signed_in(make_client, "officer.ntb@test.id")
    valid = {"action": "approve", "version": str(submitted.version),
             "valid_until": (today() + dt.timedelta(days=365)).isoformat(), "reason": ""}
    check_cases(app, DECISION_CASES,
                lambda overrides: _decide(officer, submitted.id, **{**valid, **overrides}))


# ---------------------------------------------------------------- NUL bytes


def nul_posts(world: World) -> Iterator[tuple[str | None, str, dict[str, Any]]]:
    product = {"name_id": "Garam", "name_en": "Salt", "category": "processed-food",
               "hs_code": "090111", "gtin": "", "description": ""}
    for field in ("lot_code", "producer", "quantity", "production_date"):
        yield "a@test.id", "/batches/new", batch_form(
            world.product_a.id, "NUL-1", **{field: "x\x00y"})
    for field in ("name_id", "name_en", "description", "gtin"):
        yield "a@test.id", "/products/new", {**product, field: "Nul\x00byte"}
    for field in ("company_name", "address", "name", "email", "nib", "password"):
        value = SIGNUP[field] + "\x00"
        yield None, "/signup", {**SIGNUP, field: value,
                                **({"confirm": value} if field == "password" else {})}
    yield None, "/login", {"email": "a@test.id\x00", "password": PASSWORD}
    yield None, "/login", {"email": "a\x00@test.id", "password": "x"}
    yield None, "/login", {"email": "a@test.id", "password": PASSWORD, "next": "/products\x00"}


def test_nul_bytes_are_refused_everywhere(world: World, app: Flask,
                                          make_client: Callable[[], Client]) -> None:
    """PostgreSQL cannot store NUL in text; the request is refused on every backend alike."""
    clients: dict[str | None, Client] = {None: make_client(),
                                         "a@test.id": signed_in(make_client, "a@test.id")}
    before = fingerprint(app)
    for actor, path, data in nul_posts(world):
        limiter.reset()
        response = clients[actor].post(path, data, token_from="/login" if actor is None
                                       else None)
        assert response.status_code == 422, (path, data)
        assert MSG_NUL in body(response), (path, data)
    assert fingerprint(app) == before
    # The visitor was not signed in by the NUL login with the right password.
    assert clients[None].get("/batches").status_code == 302


def test_nul_in_decision_reason_is_refused(world: World, submitted: Batch, app: Flask,
                                           make_client: Callable[[], Client]) -> None:
    officer = signed_in(make_client, "officer.ntb@test.id")
    before = fingerprint(app)
    response = _decide(officer, submitted.id, action="reject", version=str(submitted.version),
                       reason="missing\x00certificate")
    assert response.status_code == 422
    assert MSG_NUL in body(response)
    assert fingerprint(app) == before


def test_nul_in_an_uploaded_file_name_is_refused(exporter: Client, world: World,
                                                 app: Flask) -> None:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.drawString(72, 720, "Halal")
    pdf.save()
    before = fingerprint(app)
    response = exporter.post(f"/batches/{world.batch_a.id}/documents",
                             {"kind": "halal", "file": (io.BytesIO(buf.getvalue()), "a\x00.pdf")},
                             content_type="multipart/form-data")
    assert response.status_code == 422
    assert MSG_NUL in body(response)
    assert fingerprint(app) == before


def test_nul_in_the_path_is_refused(exporter: Client) -> None:
    response = exporter.get("/batches/%00")
    assert 400 <= response.status_code < 500


# ---------------------------------------------------------------- a failed write


def test_database_failure_inside_a_request_shows_the_error_page(
    exporter: Client, world: World, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flush that fails leaves the session unusable; the 500 page must still render."""

    def broken_create(session: Session, actor: User, data: Any) -> Product:
        session.add(Product(organisation_id=actor.organisation_id, name_id=None,  # type: ignore[arg-type]
                            name_en="x", category="craft", hs_code="090111"))
        session.flush()  # NOT NULL violation
        raise AssertionError("unreachable")

    monkeypatch.setattr(catalog, "create_product", broken_create)
    before = fingerprint(app)
    response = exporter.post("/products/new", {
        "name_id": "Garam", "name_en": "Salt", "category": "processed-food",
        "hs_code": "090111", "gtin": "", "description": ""})
    assert response.status_code == 500
    assert "Something went wrong on our side." in body(response)
    assert fingerprint(app) == before
    # The next request of the same user works.
    assert exporter.get("/products").status_code == 200


def test_unknown_action_never_writes(world: World, submitted: Batch, app: Flask,
                                     make_client: Callable[[], Client]) -> None:
    officer = signed_in(make_client, "officer.ntb@test.id")
    before = fingerprint(app)
    for action in ("explode", "APPROVE", "approve ", "submit", "revoke", "\u0430pprove"):
        response = _decide(officer, submitted.id, action=action, version=str(submitted.version),
                           valid_until=(today() + dt.timedelta(days=30)).isoformat(),
                           reason="because")
        assert response.status_code in (403, 409, 422), action
    assert fingerprint(app) == before
    world.decide(submitted, world.officer_ntb, Action.APPROVE)  # and the batch is still decidable
