"""What every file-store test shares: cheap password hashing (these tests sign in often and are
about files, not passwords) and a signed-in exporter."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from conftest import Client, World
from registry import auth


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                        parallelism=1))


@pytest.fixture
def exporter(client: Client, world: World) -> Client:
    client.login("a@test.id")
    return client
