"""Issue 14 §4: the verification fast path (registry/verify/hotpath.py, in front of Flask)
answers its own failures: a database or key store that does not answer gets a 503 page in
the reader's language, or problem+json, from the fast path itself, never a second try through
Flask and never "not genuine"."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from conftest import World
from registry.signing.signer import KeyStoreUnavailable
from registry.verify.hotpath import LabelResolver
from tests.verify.verify_support import path_of, signed_labels


@pytest.fixture
def broken(app: Flask, monkeypatch: pytest.MonkeyPatch, world: World, db: Session) -> str:
    label = signed_labels(app, world, db, 1)[0]

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("database at 10.0.0.5:5432 does not answer")

    monkeypatch.setattr(LabelResolver, "resolve", fail)

    # Were the request handed on to Flask, this view would turn it into a 500.
    def reentered(**_kwargs: Any) -> Any:
        raise AssertionError("the fast path handed its failure on to Flask")

    monkeypatch.setitem(app.view_functions, "verify.page", reentered)
    return label


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "temporarily unavailable"), ("id", "sementara"), ("ja", "一時"), ("zh", "暂时")])
def test_a_database_failure_is_a_503_page_in_the_readers_language(
        app: Flask, broken: str, lang: str, words: str) -> None:
    response = app.test_client().get(path_of(broken), headers={
        "Accept": "text/html", "Accept-Language": lang})
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:500]
    assert response.headers["Retry-After"] == "30"
    assert f'<html lang="{lang}">' in html and words in html.lower()
    assert "genuine" not in html.lower() and "10.0.0.5" not in html


def test_a_failure_is_problem_json_for_programs(app: Flask, broken: str) -> None:
    response = app.test_client().get(path_of(broken), headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 503 and "verdict" not in body and "10.0.0.5" not in str(body)


def test_an_unreadable_key_store_is_answered_the_same_way(
        app: Flask, monkeypatch: pytest.MonkeyPatch, broken: str) -> None:
    def no_keys(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyStoreUnavailable("key table missing")

    monkeypatch.setattr(LabelResolver, "resolve", no_keys)
    response = app.test_client().get(path_of(broken), headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
