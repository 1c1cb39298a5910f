"""Two requests racing for one unique value (an e-mail at sign-up, a lot code) both pass the
"is it free?" check; the database lets one win. The loser gets the form's "already
registered" message (a sign-up: the same answer as any other, issue 16) or a 409 problem,
never a 500 (issue 11, section 8)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, select

from conftest import Client, Inbox, World, batch_form
from registry.accounts import services as accounts
from registry.accounts.models import Organisation, User
from registry.audit.models import AuditEvent
from registry.catalog import services as catalog
from registry.catalog.models import Batch
from registry.web.database import get_session
from tests.api.api_helpers import api_for

PARALLEL = 3


def _after_the_check(monkeypatch: pytest.MonkeyPatch, module: Any, name: str,
                     parties: int) -> None:
    """Hold every request at ``module.name`` (called after the service's "is it taken?"
    query and before its INSERT) until all have checked, so they really race. Where a request
    holds SQLite's write lock already (an API token's use is recorded first), the others
    cannot arrive: after a few seconds each goes on alone, serialised by the lock."""
    barrier = threading.Barrier(parties, timeout=5)
    real = getattr(module, name)

    def wait_then(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wait_then)


def _parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _count(db: Session, model: Any, *where: Any) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def test_racing_signups_with_one_email_get_the_same_answer(
    world: World, db: Session, make_client: Callable[[], Client],
    monkeypatch: pytest.MonkeyPatch, inbox: Inbox,
) -> None:
    _after_the_check(monkeypatch, accounts, "hash_password", PARALLEL)
    clients = [make_client() for _ in range(PARALLEL)]
    tokens = [c.token("/signup") for c in clients]
    forms = [{"company_name": f"CV Kelor {i}", "nib": f"912030000000{i}", "province_code": "53",
              "address": "Kupang", "name": "Yuliana", "email": "yuli@kelor.id",
              "password": "kelor-kupang-ekspor-26", "confirm": "kelor-kupang-ekspor-26",
              "csrf_token": tokens[i]} for i in range(PARALLEL)]
    responses = _parallel([lambda c=c, f=f: c.http.post("/signup", data=f)
                           for c, f in zip(clients, forms, strict=True)])

    # Every sign-up gets the same answer, whether its address was free (issue 16 §3); the
    # losers' transactions were rolled back and the address's owner is told instead.
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] * PARALLEL, codes
    assert len(inbox.to("yuli@kelor.id")) == PARALLEL - 1
    assert _count(db, User, User.email == "yuli@kelor.id") == 1
    # The losers left nothing behind: no company without its user, no audit event.
    assert _count(db, Organisation, Organisation.name.like("CV Kelor %")) == 1
    assert _count(db, AuditEvent, AuditEvent.action == "user.signup") == 1


def test_racing_batches_with_one_lot_code_get_a_form_message(
    world: World, db: Session, make_client: Callable[[], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _after_the_check(monkeypatch, catalog, "province_of_regency", PARALLEL)
    clients = [make_client() for _ in range(PARALLEL)]
    for c in clients:
        c.login("a@test.id")
    tokens = [c.token("/batches/new") for c in clients]
    responses = _parallel([
        lambda c=c, t=t: c.http.post("/batches/new", data={
            **batch_form(world.product_a.id, lot="SAME-LOT"), "csrf_token": t})
        for c, t in zip(clients, tokens, strict=True)])

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (PARALLEL - 1) + [302], codes
    for r in responses:
        if r.status_code == 200:
            assert "This value is already registered." in r.get_data(as_text=True)
    assert _count(db, Batch, Batch.lot_code == "SAME-LOT") == 1


def test_racing_api_batches_with_one_lot_code_get_409(
    app: Flask, world: World, db: Session, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _after_the_check(monkeypatch, catalog, "province_of_regency", PARALLEL)
    apis = [api_for(app, db, world.exporter_a) for _ in range(PARALLEL)]
    body = {k: v for k, v in batch_form(world.product_a.id, lot="API-LOT").items()}
    body.update(product_id=world.product_a.id, best_before=None,
                declared_value_idr=123000000)
    responses = _parallel([lambda a=a: a.post("/batches", json=body) for a in apis])

    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 201 and set(codes[1:]) <= {409, 422}, [r.get_data(True)[:300]
                                                             for r in responses]
    for r in responses:
        if r.status_code != 201:  # 409 if the database decided, 422 if the check saw it
            assert r.mimetype == "application/problem+json"
            assert r.get_json()["codes"] == {"lot_code": "taken"}
    assert _count(db, Batch, Batch.lot_code == "API-LOT") == 1


def _duplicate_user() -> str:
    """A write that breaks a unique constraint no service checked: the safety net's case."""
    db = get_session()
    for _ in range(2):
        db.add(User(email="twice@test.id", name="x", password_hash="x", role="admin",
                    status="active", organisation_id=1))
    db.flush()
    return "unreachable"


def test_an_unforeseen_unique_violation_answers_409_not_500(app: Flask, world: World,
                                                            db: Session) -> None:
    app.add_url_rule("/test-only/duplicate", "duplicate", _duplicate_user)
    app.add_url_rule("/api/v1/test-only/duplicate", "api_duplicate", _duplicate_user)
    http = app.test_client()

    page = http.get("/test-only/duplicate")
    assert page.status_code == 409
    assert "already registered" in page.get_data(as_text=True)
    problem = http.get("/api/v1/test-only/duplicate")
    assert problem.status_code == 409 and problem.mimetype == "application/problem+json"
    assert problem.get_json()["status"] == 409
    assert _count(db, User, User.email == "twice@test.id") == 0
