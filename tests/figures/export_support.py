"""Asking for an XLSX export as a user does: the dashboard's button (a POST with the filters and
the CSRF token), the export's page, then the download. With the tests' in-process queue the
worker has written the file by the time the POST returns."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from conftest import Client

EXPORT_PATH = re.compile(r"/figures/exports/(\d+)$")


def ask_xlsx(client: Client, query: str) -> Any:
    """POST the filters of ``query`` (a dashboard query string); the answer (303 to the
    export's page, or the refusal)."""
    return client.post("/figures/exports", dict(parse_qsl(query)), token_from="/figures/")


def export_id(response: Any) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = EXPORT_PATH.search(response.location)
    assert match, response.location
    return int(match.group(1))


def xlsx_export(client: Client, query: str) -> Any:
    """The XLSX of ``query``'s filters, as its asker downloads it once it is ready."""
    number = export_id(ask_xlsx(client, query))
    page = client.get(f"/figures/exports/{number}").get_data(as_text=True)
    assert 'data-state="ready"' in page, page[:3000]
    assert f'href="/figures/exports/{number}.xlsx"' in page
    response = client.get(f"/figures/exports/{number}.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response
