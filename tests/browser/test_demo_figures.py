"""The demo as a trade officer first sees it (issue 17 §3, acceptance 4): each office, and the
admin, signs in with the README's demo account and authenticator key, opens the figures for
the last 24 months, and every chart and table shows something."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from registry.clock import today
from registry.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS
from registry.figures.queries import add_months
from registry.reference.maps import NODATA

pytestmark = pytest.mark.browser

AMOUNT = re.compile(r"Rp ([\d.,]+)")


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/login/second-factor", page.url
    page.get_by_label("Code from your authenticator app, or a recovery code",
                      exact=True).fill(pyotp.TOTP(DEMO_TOTP_SECRETS[email]).now())
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    assert not urlsplit(page.url).path.startswith("/login"), page.url  # signed in


def _amount(text: str) -> int:
    match = AMOUNT.search(text)
    assert match, text
    return int(re.sub(r"\D", "", match.group(1)))


def _bars(page: Page, chart: str) -> list[float]:
    """The widths of a bar chart's bars (its legend-free <rect>s)."""
    return [float(w) for w in page.locator(f"#{chart} rect").evaluate_all(
        "rs => rs.map(r => r.getAttribute('width'))")]


def test_every_office_sees_two_years_of_figures_at_first_look(
        app: Flask, new_context: Callable[..., Any]) -> None:
    loaded = app.test_cli_runner().invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    for email in ("admin@demo.test", "officer.bali@demo.test", "officer.ntb@demo.test",
                  "officer.ntt@demo.test"):
        _figures_at_first_look(new_context(locale="en-US").new_page(), email)


def _figures_at_first_look(page: Page, email: str) -> None:
    _sign_in(page, email)
    end = today().replace(day=1)
    start = add_months(end, -23)
    page.goto(f"/figures/?from_month={start:%Y-%m}&to_month={end:%Y-%m}&lang=en")
    expect(page.locator("h1")).to_have_text("Figures")
    assert page.locator(".flash-error").count() == 0

    # The month line: 24 points, each with its value; most months certified something.
    points = page.locator("#chart-month circle title").all_text_contents()
    assert len(points) == 24
    values = [_amount(p) for p in points]
    assert sum(v > 0 for v in values) >= 12, points
    assert page.locator("#chart-month polyline").count() == 1
    assert page.locator("#t-month tbody tr").count() == 24

    # The map: regencies shaded, with values in their titles.
    shaded = page.locator("#chart-map path").evaluate_all(
        f"ps => ps.filter(p => p.getAttribute('fill') !== '{NODATA}').length")
    assert shaded >= 5, shaded
    assert page.locator("#t-regency tbody tr").count() >= 5

    # Bars by province, commodity and destination, none of them empty.
    assert [w for w in _bars(page, "chart-province") if w > 0]
    assert len([w for w in _bars(page, "chart-category") if w > 0]) >= 3
    assert len([w for w in _bars(page, "chart-destination") if w > 0]) >= 6
    for table in ("t-province", "t-category", "t-chapter", "t-destination"):
        rows = page.locator(f"#{table} tbody tr")
        assert rows.count() >= 1
        expect(rows.first).not_to_contain_text("No certified batches")

    # Review: lead times, rejections and what the officers wrote.
    facts = page.locator("section[aria-labelledby='h-review'] dl.facts").inner_text()
    assert re.search(r"Rejections\s+[1-9]", facts), facts
    assert "Median lead time" in facts and "—" not in facts
    reasons = page.locator("#t-reasons tbody tr")
    assert reasons.count() >= 1
    expect(reasons.first).not_to_contain_text("No rejections")

    # Labels and scans: printed labels, scans by language and country, suspicious ones.
    labels = page.locator("section[aria-labelledby='h-labels'] dl.facts").inner_text()
    assert re.search(r"Labels printed\s+[1-9]", labels), labels
    assert re.search(r"Scans\s+[1-9]", labels), labels
    assert page.locator("#t-scan-language tbody tr").count() >= 3
    expect(page.locator("#t-scan-country tbody tr").first).not_to_contain_text("No scan")
    suspicious = page.locator("#t-suspicious tbody tr")
    assert suspicious.count() >= 1
    expect(suspicious.first).not_to_contain_text("No suspicious scans")
    assert not page.context.http_errors
