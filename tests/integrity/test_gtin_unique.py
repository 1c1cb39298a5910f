"""Issue 11 §2: one GTIN, one company.

Ten exporters' browsers (and API clients) of company A and ten of company B post the same new
GTIN at the same instant. Before the fix the check-then-insert let several through on both
databases: two companies owned one GTIN, and a label of one showed the other as exporter. Now
the database's unique index decides: exactly one product holds the GTIN, every loser gets the
form's "already registered" message (or a 422 problem naming the field), never a 500, and nothing of
the losers is written, not even an audit event.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from api.api_helpers import token_for
from flask import Flask
from sqlmodel import Session, func, select

from conftest import Client, World
from registry.audit.models import AuditEvent
from registry.catalog.models import Product
from registry.catalog.rules import normalise_gtin
from registry.gs1 import digital_link as gs1

PER_COMPANY = 10
GTIN = "899765432101" + gs1.gtin_check_digit("899765432101")


def _form(n: int, company: str, gtin: str = GTIN) -> dict[str, str]:
    return {"name_id": f"Madu {company}{n}", "name_en": f"Honey {company}{n}",
            "category": "livestock", "hs_code": "040900", "gtin": gtin, "description": ""}


def _race(calls: list[Any]) -> list[Any]:
    """Run ``calls`` in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # reported below, not lost in the thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _products_with(db: Session, gtin: str) -> list[Product]:
    db.expire_all()
    return list(db.exec(select(Product).where(Product.gtin == normalise_gtin(gtin))).all())


def test_parallel_new_products_with_one_gtin_make_one_product(
    world: World, db: Session, make_client: Any
) -> None:
    posts = []
    for company, email in (("A", "a@test.id"), ("B", "b@test.id")):
        for n in range(PER_COMPANY):
            client: Client = make_client()
            client.login(email)
            token = client.token("/products/new")

            def post(client: Client = client, token: str = token, n: int = n,
                     company: str = company) -> Any:
                return client.http.post("/products/new",
                                        data={**_form(n, company), "csrf_token": token})
            posts.append(post)
    audit_before = db.exec(select(func.count()).select_from(AuditEvent)).one()

    responses = _race(posts)

    assert not [r for r in responses if isinstance(r, BaseException)], responses
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {302: 1, 200: 2 * PER_COMPANY - 1}, statuses
    for r in responses:
        if r.status_code == 200:
            assert "This value is already registered." in r.get_data(as_text=True)
    products = _products_with(db, GTIN)
    assert len(products) == 1
    # One product, one audit event: the losers wrote nothing.
    audit_after = db.exec(select(func.count()).select_from(AuditEvent)).one()
    assert audit_after - audit_before == 1


def test_parallel_api_posts_with_one_gtin_make_one_product(
    world: World, db: Session, app: Flask
) -> None:
    secrets = {"A": token_for(db, world.exporter_a), "B": token_for(db, world.exporter_b)}
    posts = []
    for company in ("A", "B"):
        for n in range(PER_COMPANY):
            http = app.test_client()

            def post(http: Any = http, n: int = n, company: str = company) -> Any:
                return http.post("/api/v1/products", json=_form(n, company),
                                 headers={"Authorization": f"Bearer {secrets[company]}"})
            posts.append(post)

    responses = _race(posts)

    assert not [r for r in responses if isinstance(r, BaseException)], responses
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 422: 2 * PER_COMPANY - 1}, statuses
    for r in responses:
        if r.status_code == 422:
            assert r.mimetype == "application/problem+json"
            assert "gtin" in r.get_data(as_text=True)
    assert len(_products_with(db, GTIN)) == 1


def test_an_empty_gtin_is_no_gtin(world: World, db: Session, make_client: Any) -> None:
    """'' would be one value under a unique index: it is stored as NULL, so any number of
    products go without a GTIN (they carry registry numbers)."""
    client: Client = make_client()
    client.login("a@test.id")
    for n in range(3):
        assert client.post("/products/new", _form(n, "A", gtin="")).status_code == 302
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Product)
                   .where(Product.gtin == "")).one() == 0
