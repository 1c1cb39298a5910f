"""Issue 13 §3: Prometheus metrics at /metrics, read as Prometheus reads them (the text format,
parsed by prometheus_client's own parser), after real scans, downloads and refusals.

Metrics are per process and tests share one process: each test compares a scrape after the
action with one before it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlmodel import Session, select

from conftest import Client, World, decode_qr_codes, order_and_download
from registry import create_app
from registry.catalog.certification import Action
from registry.config import ConfigError, load_config
from registry.ops import metrics
from registry.printing.models import PrintJob
from registry.verify.scanlog import ScanBuffer
from tests.verify.verify_support import path_of

TOKEN = "metrics-token-0123456789-abcdefghij"
JSON = {"Accept": "application/json"}


def scrape(http: FlaskClient, **kwargs: Any) -> dict[tuple[str, frozenset[tuple[str, str]]],
                                                   float]:
    response = http.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def certified_labels(make_client: Any, world: World, db: Session, quantity: int) -> list[str]:
    """Labels of company A's certified batch, ordered and downloaded as a PDF over HTTP, and
    decoded from its pixels: what a buyer's phone opens."""
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    exporter, printer = make_client(), make_client()
    exporter.login("a@test.id")
    printer.login("printer@test.id")
    pdf = order_and_download(exporter, printer, world, db, world.batch_a, quantity)
    return decode_qr_codes(pdf)




def test_scans_by_verdict_and_labels_rendered(app: Flask, make_client: Any, world: World,
                                              db: Session) -> None:
    http = app.test_client()
    before = scrape(http)
    uris = certified_labels(make_client, world, db, quantity=4)
    after_download = scrape(http)
    assert value(after_download, "registry_labels_rendered_total", format="pdf") - value(
        before, "registry_labels_rendered_total", format="pdf") == 4
    assert value(after_download, "registry_print_job_render_seconds_count", format="pdf") - value(
        before, "registry_print_job_render_seconds_count", format="pdf") == 1

    genuine = path_of(uris[0])
    assert http.get(genuine).status_code == 200
    assert http.get(genuine, headers=JSON).get_json()["verdict"] == "genuine"
    # A forged label: the same code with another signature.
    head, _, signature = genuine.rpartition("s=")
    forged = head + "s=" + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert http.get(forged, headers=JSON).get_json()["verdict"] == "not_genuine"
    after = scrape(http)

    def scans(verdict: str) -> float:
        return (value(after, "registry_scans_total", verdict=verdict)
                - value(after_download, "registry_scans_total", verdict=verdict))

    assert scans("genuine") == 2
    assert scans("not_genuine") == 1
    # Every verdict is a series from the start, so rate() and alerts see zero, not nothing.
    assert {"genuine", "not_genuine", "revoked", "possible_copy", "specimen"} <= {
        dict(labels)["verdict"] for name, labels in after if name == "registry_scans_total"}


def test_zpl_download_counts_its_labels(app: Flask, make_client: Any, world: World,
                                        db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    exporter, printer = make_client(), make_client()
    exporter.login("a@test.id")
    printer.login("printer@test.id")
    response = exporter.post(f"/batches/{world.batch_a.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "roll-100x150",
        "quantity": "5", "net_quantity": "500 g"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_id = db.exec(select(PrintJob.id).where(PrintJob.batch_id == world.batch_a.id)).one()
    http = app.test_client()
    before = scrape(http)
    zpl = printer.download(f"/print-shop/jobs/{job_id}.zpl?dpi=203").get_data()
    assert zpl.count(b"^XA") == 5
    after = scrape(http)
    assert value(after, "registry_labels_rendered_total", format="zpl") - value(
        before, "registry_labels_rendered_total", format="zpl") == 5
    assert value(after, "registry_print_job_render_seconds_count", format="zpl") - value(
        before, "registry_print_job_render_seconds_count", format="zpl") == 1


def test_rate_limit_refusals_and_http_requests(app: Flask, client: Client) -> None:
    app.config["LOGIN_ACCOUNT_LIMIT"] = "2 per hour"
    http = app.test_client()
    before = scrape(http)
    statuses = [client.post("/login", {"email": "nobody@test.id", "password": "wrong-wrong"},
                            token_from="/login").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # Two segments: one segment of base64url characters is a possible compressed GS1 URI,
    # answered (404) by that route rather than unmatched.
    assert http.get("/no/such-page").status_code == 404
    after = scrape(http)
    assert value(after, "registry_rate_limit_refusals_total", limit="accounts.login") - value(
        before, "registry_rate_limit_refusals_total", limit="accounts.login") == 1

    def requests(endpoint: str, method: str, status: str) -> float:
        labels = {"endpoint": endpoint, "method": method, "status": status}
        return (value(after, "registry_http_requests_total", **labels)
                - value(before, "registry_http_requests_total", **labels))

    assert requests("accounts.login", "POST", "2xx") == 2
    assert requests("accounts.login", "POST", "4xx") == 1
    assert requests("accounts.login", "GET", "2xx") == 3  # the form, for its CSRF token
    assert requests("unmatched", "GET", "4xx") == 1
    assert value(after, "registry_http_request_duration_seconds_count",
                 endpoint="accounts.login") - value(
        before, "registry_http_request_duration_seconds_count", endpoint="accounts.login") == 6


def test_flush_failures_and_buffer_depth(app: Flask, tmp_path: Path) -> None:
    http = app.test_client()
    before = scrape(http)
    # A database that is not there: the flush fails, the rows wait for the next attempt.
    buffer = ScanBuffer(create_engine(f"sqlite:///{tmp_path}/missing/dir/x.sqlite3"),
                        background=False)
    app.extensions["scan_buffer"] = buffer
    for n in range(3):
        buffer.add({"client": f"c{n}", "batch_id": None, "serial_number": None})
    with pytest.raises(Exception, match="unable to open"):
        buffer.flush()
    after = scrape(http)
    assert value(after, "registry_scan_buffer_flush_failures_total") - value(
        before, "registry_scan_buffer_flush_failures_total") == 1
    assert value(after, "registry_scan_buffer_pending") == 3


# --- who may read it --------------------------------------------------------------------------

def test_metrics_answer_loopback_allowed_networks_and_the_token_only(app: Flask) -> None:
    http = app.test_client()
    internet = {"REMOTE_ADDR": "203.0.113.9"}
    assert http.get("/metrics").status_code == 200  # loopback, the default
    refused = http.get("/metrics", environ_base=internet)
    assert refused.status_code == 404
    assert b"registry_" not in refused.get_data()
    assert http.get("/metrics", environ_base=internet,
                    headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404  # unset

    app.config["METRICS_TOKEN"] = TOKEN
    assert http.get("/metrics", environ_base=internet,
                    headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    for wrong in (f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer "):
        assert http.get("/metrics", environ_base=internet,
                        headers={"Authorization": wrong}).status_code == 404, wrong

    app.config["METRICS_NETWORKS"] = metrics.parse_networks("10.0.0.0/8, 2001:db8::/32")
    assert http.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert http.get("/metrics", environ_base={"REMOTE_ADDR": "2001:db8::7"}).status_code == 200
    # Loopback is no longer in the list either: the setting replaces the default.
    assert http.get("/metrics").status_code == 404


def test_behind_a_proxy_the_forwarded_address_decides(app: Flask) -> None:
    behind = create_app({**{k: app.config[k] for k in (
        "DATABASE_URL", "TESTING", "SECRET_KEY", "UPLOAD_DIR", "KEY_DIR", "KEY_ENCRYPTION_KEY",
        "RATELIMIT_STORAGE_URI", "FILE_STORE", "S3_BUCKET", "S3_ENDPOINT_URL")},
        "INSTANCE_PATH": app.instance_path, "PROXY_HOPS": 1})
    try:
        http = behind.test_client()
        # nginx on the same machine forwards an internet client: not loopback any more.
        assert http.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"}
                        ).status_code == 404
        assert http.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    finally:
        behind.extensions["engine"].dispose()


@pytest.mark.parametrize(("env", "problem"), [
    ({"METRICS_ALLOW": "10.0.0.0/8, intranet"}, "METRICS_ALLOW: 'intranet'"),
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be a random value"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be text or json"),
])
def test_bad_settings_refuse_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   env: dict[str, str], problem: str) -> None:
    for name, raw in env.items():
        monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=problem):
        create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True,
                    "DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite3"})


def test_production_logs_json_by_default(tmp_path: Path) -> None:
    assert load_config(tmp_path, {"ENV": "production", "TESTING": True,
                                  "SECRET_KEY": "x" * 40})["LOG_FORMAT"] == "json"
    assert load_config(tmp_path)["LOG_FORMAT"] == "text"


@pytest.mark.parametrize(("args", "name"), [
    (["registry", "203.0.113.9", "accounts.login"], "accounts.login"),
    (["registry", "dead:beef::1", "accounts.login"], "accounts.login"),  # no name in it
    (["registry", "api-addr:dead:beef::1", "api"], "api/api-addr"),
    (["registry", "api-token:0f1e2d", "api"], "api/api-token"),
    (["token-create:42", "api_account.tokens"], "api_account.tokens/token-create"),
])
def test_limit_names_are_bounded(args: list[str], name: str) -> None:
    """The label names the limit, never the visitor: no address, token or user id."""

    class Breach:
        request_args = args

    def count() -> float:
        return REGISTRY.get_sample_value("registry_rate_limit_refusals_total",
                                         {"limit": name}) or 0.0

    before = count()
    metrics.rate_limit_breached(Breach())
    assert count() == before + 1
