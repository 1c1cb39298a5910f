"""What every file-store test shares: a signed-in exporter."""

from __future__ import annotations

import pytest

from conftest import Client, World


@pytest.fixture
def exporter(client: Client, world: World) -> Client:
    client.login("a@test.id")
    return client
