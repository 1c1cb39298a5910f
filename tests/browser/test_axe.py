"""Accessibility of every page: axe-core (npm, pinned in tests/browser/package.json) injected
by Playwright into each HTML page the app serves by GET, for every kind of visitor, at desktop
and phone widths. A serious or critical violation fails.

The pages come from the app's URL map, with the paths (and the scene of real objects they need)
of the route x role matrix in tests/test_access.py: a new page is checked as soon as it is
served, and a GET route that is not an HTML page must be listed in ``NOT_PAGES`` with a reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlmodel import Session
from test_access import ROUTES, STATES, Route, build_scene

from conftest import PASSWORD, World, fresh_code
from registry.catalog.certification import Action
from registry.verify import walkup

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
# One account of each role (the matrix's actor names).
ROLES = {"anonymous": "anonymous", "exporter": "exporter_a", "officer": "officer_ntb",
         "printer": "printer", "admin": "admin"}
EMAILS = {"exporter_a": "a@test.id", "officer_ntb": "officer.ntb@test.id",
          "printer": "printer@test.id", "admin": "admin@test.id"}
BLOCKING = ("serious", "critical")

# GET routes that answer something other than an HTML page, with why they are not checked.
NOT_PAGES: dict[str, str] = {
    "main.healthz": "plain-text health check",
    "main.readyz": "plain-text readiness check",
    "metrics.metrics": "Prometheus text format",
    "catalog.product_photo_file": "an image file",
    "catalog.document_file": "a PDF document",
    "printing.preview_png": "a PNG preview",
    "printing.proof_pdf": "a PDF proof",
    "printing.download_pdf": "a PDF label file (or a redirect to the job's page)",
    "printing.download_zpl": "a ZPL label file (or a redirect to the job's page)",
    "figures.export_csv": "a CSV file",
    "figures.export_download": "an XLSX file (an export job's download)",
    "figures.report": "a PDF report",
    "targets.evaluation": "a PDF report (the yearly evaluation)",
    "targets.progress_csv": "a CSV file",
    "targets.progress_xlsx": "an XLSX file",
    "plots.plots_geojson": "a GeoJSON file (the EU due-diligence geolocation)",
    "plots.shipment_plots_geojson": "a GeoJSON file (one shipment's geolocation)",
    "verify.resolve": "a redirect to the verification page (checked as verify.page)",
    "verify.compressed": "a redirect to the verification page (checked as verify.page)",
    "verify.resolver_description": "JSON (GS1 resolver description)",
    "verify.keys": "JSON key set",
    "verify.jwks": "JSON Web Key Set",
    "verify.label_vectors": "JSON test vectors",
    "verify.origin_map": "an SVG image",
    "verify.document": "a PDF document",
    "verify.photo": "an image file",
    "verify.epcis": "JSON-LD (a lot's EPCIS 2.0 events)",
    "checkpoints.latest_checkpoint": "a signed text checkpoint",
    "checkpoints.audit_key": "a public key file",
    # An HTML page, but only right after a password was accepted: checked while signing in.
    "accounts.login_second_factor": "checked by _sign_in (redirects to the login otherwise)",
}


def _label_parts(scene: Any) -> tuple[str, str]:
    """The GTIN and lot of the scene's printed label (its path is /01/<gtin>/10/<lot>/21/...)."""
    parts = scene.label_path.split("?")[0].split("/")
    return parts[2], parts[4]


# The other faces of the public verification endpoint (verify.page) beside a label's page, for
# anyone: (path, status) in the approved scene.
VERIFY_FACES: list[tuple[Callable[[Any], str], int]] = [
    (lambda s: "/verify/01/{}/10/{}".format(*_label_parts(s)), 200),  # the lot's page
    (lambda s: f"/verify/01/{_label_parts(s)[0]}", 200),  # the product's page
    (lambda s: f"/verify/01/{_label_parts(s)[0]}/10/NO-SUCH-LOT", 404),  # no such lot
    (lambda s: "/verify/01/123", 400),  # not a label code
]


def _get_routes(app: Flask) -> set[str]:
    """The GET endpoints, but for static files and the JSON API (``api.``: tokens only)."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and rule.endpoint != "static"
            and not rule.endpoint.startswith("api.")}


def _pages() -> dict[str, Route]:
    return {r.endpoint: r for r in ROUTES if r.method == "GET" and r.endpoint not in NOT_PAGES
            and not r.endpoint.startswith("api.")}


def test_every_get_route_is_checked_or_skipped_with_a_reason(app: Flask) -> None:
    served = _get_routes(app)
    pages = _pages()
    assert served - set(pages) - set(NOT_PAGES) == set(), "GET routes neither checked nor skipped"
    assert set(NOT_PAGES) - served == set(), "NOT_PAGES lists routes the app does not serve"
    # Each page is opened (200) by at least one of the roles checked below.
    unseen = {e for e, route in pages.items()
              if not any(route.expected(actor) == 200 for actor in ROLES.values())}
    assert unseen == set(), "pages no checked role opens"


def _axe(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _describe(url: str, width: str, violations: list[dict[str, Any]]) -> list[str]:
    return [f"{width} {url}: {v['impact']} {v['id']} ({v['help']}): "
            + json.dumps([n["target"] for n in v["nodes"][:5]]) for v in violations]


def _sign_in(page: Page, app: Flask, email: str) -> list[str]:
    """Sign in through the forms (the login and second-factor pages are checked on the way)."""
    problems: list[str] = []
    page.goto("/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    if urlsplit(page.url).path == "/login/second-factor":
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            problems += _describe(page.url, width, _axe(page))
        page.get_by_label("Code from your authenticator app, or a recovery code",
                          exact=True).fill(fresh_code(app.extensions["engine"], email))
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_load_state()
    assert urlsplit(page.url).path not in ("/login", "/login/second-factor"), "not signed in"
    return problems


def _paged_product_page(page: Page, scene: Any, world: World,
                        monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The product's page split in pages (a second approved lot, one lot a page): the count
    line and the newer / older links, which the one-lot scene never shows."""
    gtin = _label_parts(scene)[0]
    second = world.batch(world.exporter_a, world.product_a, "A-LOT-2", "52.04")
    world.submit(second, world.exporter_a)
    world.decide(second, world.officer_ntb, Action.APPROVE)
    assert second.gtin == gtin
    monkeypatch.setattr(walkup, "LOTS_PER_PAGE", 1)
    problems: list[str] = []
    for path, link in ((f"/verify/01/{gtin}", "Older lots"),
                       (f"/verify/01/{gtin}?page=2", "Newer lots")):
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            assert page.get_by_role("link", name=link).is_visible(), path
            problems += _describe(path, width, _axe(page))
    return problems


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", list(ROLES))
def test_no_serious_axe_violation(role: str, state: str, new_context: Callable[..., Any],
                                  live_server: str, world: World, db: Session,
                                  app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    if not AXE.exists():
        why = ("axe-core is not installed: run `npm ci --prefix tests/browser` "
               "(make test does when npm is on the machine)")
        if os.environ.get("REQUIRE_AXE"):  # CI (.ci/run): never a silent skip
            pytest.fail(why)
        pytest.skip(why)
    actor = ROLES[role]
    scene = build_scene(world, db, app, state=state)
    # bypass_csp: the app's CSP (script-src 'self') would refuse the injected axe script.
    page = new_context(viewport=WIDTHS["desktop"], bypass_csp=True).new_page()
    problems = [] if actor == "anonymous" else _sign_in(page, app, EMAILS[actor])
    checked = 0
    for endpoint, route in sorted(_pages().items()):
        if route.state != state or route.expected(actor) != 200:
            continue
        path = route.path(scene)
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            response = page.goto(path)
            assert response is not None and response.status == 200, f"{endpoint}: {path}"
            assert response.headers["content-type"].startswith("text/html"), endpoint
            problems += _describe(path, width, _axe(page))
            # Wide tables scroll inside their focusable region, never the page itself.
            scroll, client = page.evaluate("() => [document.scrollingElement.scrollWidth, "
                                           "document.scrollingElement.clientWidth]")
            if scroll > client:
                problems.append(f"{width} {path}: the page scrolls sideways ({scroll} > {client})")
            checked += 1
    if actor == "anonymous" and state == "draft":
        # A form showing its errors (aria-invalid, described-by messages).
        page.goto("/login")
        page.get_by_label("E-mail", exact=True).fill("a@test.id")
        page.get_by_label("Password", exact=True).fill("not-the-password-1")
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_load_state()
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            problems += _describe("/login (wrong password)", width, _axe(page))
    if actor == "anonymous" and state == "approved":
        for make_path, status in VERIFY_FACES:
            path = make_path(scene)
            for width, viewport in WIDTHS.items():
                page.set_viewport_size(viewport)
                response = page.goto(path)
                assert response is not None and response.status == status, path
                problems += _describe(path, width, _axe(page))
        problems += _paged_product_page(page, scene, world, monkeypatch)
    # The error page, as anyone may meet it.
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.goto("/no-such-page")
        problems += _describe("/no-such-page", width, _axe(page))
    assert checked or state != "draft", f"no page checked for {role}"
    assert not problems, "\n".join(problems)
