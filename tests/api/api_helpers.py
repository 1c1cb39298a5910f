"""Helpers for the API tests: tokens straight from the service, and a token-bearing client."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session

from registry.accounts.models import User
from registry.api import tokens

PREFIX = "/api/v1"


def token_for(db: Session, user: User, access: str = "write", name: str = "ERP") -> str:
    created = tokens.create_token(db, user, name=name, access=access)
    db.commit()
    return created.secret


class Api:
    """A test client that sends ``Authorization: Bearer`` and no cookies of its own."""

    def __init__(self, app: Flask, secret: str | None) -> None:
        self.http = app.test_client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        url = path if path.startswith(PREFIX) else PREFIX + path
        return self.http.open(url, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self._call("PUT", path, **kwargs)


def api_for(app: Flask, db: Session, user: User, access: str = "write") -> Api:
    return Api(app, token_for(db, user, access))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(True)[:800])
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    return body  # type: ignore[no-any-return]
