"""Figures against hand-computed values on a small registry built through the services.

The registry (decision and submission times are then moved into March and April 2026, WITA):

batch company regency product (category, HS)  qty      dest value (IDR)    submitted → approved
a1    A       52.04   honey (agriculture, 09)  1200 kg  NL   540,000,000    03-09 10h → 03-10 10h
                                                                            (24 h)
a2    A       52.04   =HYPERLINK (fishery, 03) 2 t      JP   300,000,000    03-30 07h → 04-01 07h
                                                                            (48 h)
a4    A       52.71   honey                    300 l    SG   200,000,000    04-05 12h → 04-15 12h
                                                                            (240 h), then suspended
b1    B       53.09   coffee (agriculture, 09) 1200 kg  NL   540,000,000    04-19 12h → 04-20 14h
                                                                            (26 h), then revoked
a3    A       52.01   honey                    500 pcs  NL   100,000,000    rejected 03-20
b2    B       53.09   coffee                   10 head  AU   1,000,000,000  rejected 04-21
b3    B       53.09   coffee                   (draft)

The reasons are "Missing phytosanitary certificate" and " missing PHYTOSANITARY certificate".
a2 is approved at 2026-03-31 23:00 UTC: April in WITA, which is the month the offices count in.
Lead times 24, 26, 48, 240 h: median (nearest rank 2 of 4) 26 h, p90 (rank 4) 240 h.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pypdfium2
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session, select

from conftest import Client, World, batch_input
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.catalog.rules import ProductInput
from registry.clock import REGION_TZ
from registry.figures import exports, queries, summary
from registry.figures.queries import Filters
from registry.printing import services as printing
from registry.verify.models import Scan
from tests.figures.export_support import xlsx_export

MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
PERIOD = "from_month=2026-03&to_month=2026-04"


def wita(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=REGION_TZ).astimezone(dt.UTC)


class Registry:
    def __init__(self, world: World) -> None:
        self.world = w = world
        s = w.session
        self.fish = catalog.create_product(s, w.exporter_a, ProductInput(
            name_id='=HYPERLINK("http://evil.example","klik")', name_en="=HYPERLINK(\"x\")",
            category="fishery", hs_code="030342"))
        a1 = w.batch_a
        catalog.update_batch(s, w.exporter_a, a1.id, batch_input(
            w.product_a, "A-LOT-1", "52.04", producer="@SUM(1+1)"))
        a2 = catalog.create_batch(s, w.exporter_a, batch_input(
            self.fish, "A-LOT-2", "52.04", quantity=Decimal("2"), unit="t",
            destination_country="JP", declared_value_idr=300_000_000, producer="+cmd|calc"))
        a3 = catalog.create_batch(s, w.exporter_a, batch_input(
            w.product_a, "A-LOT-3", "52.01", quantity=Decimal("500"), unit="pcs",
            declared_value_idr=100_000_000))
        a4 = catalog.create_batch(s, w.exporter_a, batch_input(
            w.product_a, "-LOT4", "52.71", quantity=Decimal("300"), unit="l",
            destination_country="SG", declared_value_idr=200_000_000))
        b1 = w.batch_b
        b2 = catalog.create_batch(s, w.exporter_b, batch_input(
            w.product_b, "B-LOT-2", "53.09", quantity=Decimal("10"), unit="head",
            destination_country="AU", declared_value_idr=1_000_000_000))
        catalog.create_batch(s, w.exporter_b, batch_input(w.product_b, "B-LOT-3", "53.09"))
        s.commit()
        for batch, exporter in ((a1, w.exporter_a), (a2, w.exporter_a), (a3, w.exporter_a),
                                (a4, w.exporter_a), (b1, w.exporter_b), (b2, w.exporter_b)):
            w.submit(batch, exporter)
        w.decide(a1, w.officer_ntb, Action.APPROVE)
        w.decide(a2, w.officer_ntb, Action.APPROVE)
        w.decide(a4, w.officer_ntb, Action.APPROVE)
        w.decide(b1, w.officer_ntt, Action.APPROVE)
        w.decide(a3, w.officer_ntb, Action.REJECT, reason="Missing phytosanitary certificate")
        w.decide(b2, w.officer_ntt, Action.REJECT, reason=" missing PHYTOSANITARY certificate")
        w.decide(a4, w.officer_ntb, Action.SUSPEND)
        w.decide(b1, w.officer_ntt, Action.REVOKE)
        jobs = [printing.order_job(s, w.exporter_a, b.id, printer_org_id=w.print_org.id,
                                   stock="a4-3x7", quantity=n, net_quantity="1 kg")
                for b, n in ((a1, 100), (a2, 50))]
        # One more job for a1 stays at today's date, outside the period.
        printing.order_job(s, w.exporter_a, a1.id, printer_org_id=w.print_org.id,
                           stock="a4-3x7", quantity=7, net_quantity="1 kg")
        s.commit()
        times = {  # batch: (submitted, approved)
            a1.id: (wita(3, 9, 10), wita(3, 10, 10)), a2.id: (wita(3, 30, 7), wita(4, 1, 7)),
            a4.id: (wita(4, 5, 12), wita(4, 15, 12)), b1.id: (wita(4, 19, 12), wita(4, 20, 14)),
        }
        for batch_id, (submitted, approved) in times.items():
            s.execute(text("UPDATE batch SET submitted_at = :t WHERE id = :id"),
                      {"t": submitted, "id": batch_id})
            s.execute(text("UPDATE decision SET created_at = :t WHERE batch_id = :id "
                           "AND action = 'approve'"), {"t": approved, "id": batch_id})
        for batch_id, at in ((a3.id, wita(3, 20, 9)), (b2.id, wita(4, 21, 9))):
            s.execute(text("UPDATE decision SET created_at = :t WHERE batch_id = :id "
                           "AND action = 'reject'"), {"t": at, "id": batch_id})
        for job, at in zip(jobs, (wita(3, 12, 9), wita(4, 2, 9)), strict=True):
            s.execute(text("UPDATE print_job SET created_at = :t WHERE id = :id"),
                      {"t": at, "id": job.id})
        scans = [  # (batch, verdict, language, country, when)
            (a1, "genuine", "en", "NL", wita(3, 15, 8)),
            (a1, "genuine", "en", "NL", wita(3, 16, 8)),
            (a1, "possible_copy", "zh", "CN", wita(4, 2, 8)),
            (a2, "genuine", "ja", "JP", wita(4, 3, 8)),
            (b1, "revoked", "en", "NL", wita(4, 25, 8)),
            (None, "not_genuine", "en", "US", wita(4, 26, 8)),
            (a1, "genuine", "en", "NL", wita(5, 2, 8)),  # May: outside the period
        ]
        for i, (batch, verdict, lang, country, when) in enumerate(scans):
            s.add(Scan(created_at=when, batch_id=batch.id if batch else None, gtin="0" * 14,
                       lot=batch.lot_code if batch else "FAKE", serial=str(i + 1),
                       serial_number=i + 1, verdict=verdict, language=lang, country=country,
                       # The Japanese reader's country came from the browser's language.
                       country_source="language" if country == "JP" else "header",
                       client="c" * 16))
        # The decisions were moved in time behind the services' back: the summary cells
        # follow through the rebuild, as after any repair of the base tables.
        summary.rebuild(s)
        s.commit()
        self.a1, self.a2, self.a3, self.a4, self.b1, self.b2 = a1, a2, a3, a4, b1, b2


@pytest.fixture
def reg(world: World) -> Registry:
    return Registry(world)


def figures_for(db: Session, user: Any, **filters: Any) -> queries.Figures:
    return queries.dashboard(db, user, Filters(start=MARCH, end=APRIL, **filters))


def by_key(rows: list[queries.Row]) -> dict[str, tuple[int, int, dict[str, Decimal]]]:
    return {r.key: (r.batches, r.value_idr, {u: q for u, q in r.volume.items() if q})
            for r in rows}


def test_admin_figures_match_the_hand_computed_values(reg: Registry, db: Session) -> None:
    f = figures_for(db, reg.world.admin)
    assert (f.total.batches, f.total.value_idr) == (4, 1_580_000_000)
    assert f.total.volume == {"kg": Decimal("4400"), "l": Decimal("300")}
    assert by_key(f.by_province) == {
        "52": (3, 1_040_000_000, {"kg": Decimal("3200"), "l": Decimal("300")}),
        "53": (1, 540_000_000, {"kg": Decimal("1200")}),
    }
    assert by_key(f.by_regency) == {
        "52.04": (2, 840_000_000, {"kg": Decimal("3200")}),
        "52.71": (1, 200_000_000, {"l": Decimal("300")}),
        "53.09": (1, 540_000_000, {"kg": Decimal("1200")}),
    }
    assert [r.key for r in f.by_regency] == ["52.04", "53.09", "52.71"]  # by value
    assert by_key(f.by_month) == {
        "2026-03": (1, 540_000_000, {"kg": Decimal("1200")}),
        "2026-04": (3, 1_040_000_000, {"kg": Decimal("3200"), "l": Decimal("300")}),
    }
    assert by_key(f.by_category) == {
        "agriculture": (3, 1_280_000_000, {"kg": Decimal("2400"), "l": Decimal("300")}),
        "fishery": (1, 300_000_000, {"kg": Decimal("2000")}),
    }
    assert {r.key: r.batches for r in f.by_chapter} == {"09": 3, "03": 1}
    assert {r.key: (r.batches, r.value_idr) for r in f.by_destination} == {
        "NL": (2, 1_080_000_000), "JP": (1, 300_000_000), "SG": (1, 200_000_000)}
    assert f.current_status == {"approved": 2, "suspended": 1, "revoked": 1}
    assert (f.lead_time.count, f.lead_time.median_minutes, f.lead_time.p90_minutes) == (
        4, 26 * 60, 240 * 60)
    assert f.rejections == 2
    # Grouped whatever the case and spacing, shown as last written (not lower-cased).
    assert f.common_reasons == [("missing PHYTOSANITARY certificate", 2)]
    assert [r[2] for r in f.latest_reasons] == ["missing PHYTOSANITARY certificate",
                                                "Missing phytosanitary certificate"]
    assert (f.labels_printed, f.print_jobs) == (150, 2)
    assert f.scans == 6  # the unknown label's scan counts in the unfiltered view
    # By country only where a header gave it; the rest by language region, said so.
    assert dict(f.scans_by_country) == {"NL": 3, "CN": 1, "US": 1}
    assert dict(f.scans_by_language_region) == {"JP": 1}
    assert dict(f.scans_by_language) == {"en": 4, "zh": 1, "ja": 1}
    assert f.suspicious == {"possible_copy": 1, "not_genuine": 1}
    assert [s[1] for s in f.suspicious_latest] == ["not_genuine", "possible_copy"]


def test_filters_narrow_every_figure(reg: Registry, db: Session) -> None:
    admin = reg.world.admin
    ntb = figures_for(db, admin, province="52")
    assert (ntb.total.batches, ntb.total.value_idr) == (3, 1_040_000_000)
    assert (ntb.rejections, ntb.labels_printed, ntb.scans) == (1, 150, 4)
    assert ntb.suspicious == {"possible_copy": 1}
    fish = figures_for(db, admin, category="fishery")
    assert (fish.total.batches, fish.total.value_idr, fish.scans) == (1, 300_000_000, 1)
    assert fish.lead_time.median_minutes == 48 * 60
    nl = figures_for(db, admin, destination="NL")
    assert (nl.total.batches, nl.total.value_idr, nl.rejections) == (2, 1_080_000_000, 1)
    march = queries.dashboard(db, admin, Filters(start=MARCH, end=MARCH))
    assert (march.total.batches, march.rejections, march.labels_printed) == (1, 1, 100)
    assert [m.key for m in march.by_month] == ["2026-03"]


def test_exporters_see_only_their_company(reg: Registry, db: Session) -> None:
    f = figures_for(db, reg.world.exporter_a)
    assert (f.total.batches, f.total.value_idr) == (3, 1_040_000_000)
    assert f.scans == 4 and f.suspicious == {"possible_copy": 1}
    b = figures_for(db, reg.world.exporter_b)
    assert (b.total.batches, b.total.value_idr, b.rejections, b.labels_printed) == (
        1, 540_000_000, 1, 0)


@pytest.fixture
def as_user(make_client: Any) -> Any:
    def login(email: str) -> Client:
        client = make_client()
        client.login(email)
        return client
    return login


def test_pages_by_role(reg: Registry, as_user: Any, client: Client) -> None:
    anonymous = client.get("/figures/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert as_user("printer@test.id").get("/figures/").status_code == 403
    assert as_user("printer@test.id").get(f"/figures/batches.csv?{PERIOD}").status_code == 403

    page = as_user("a@test.id").get(f"/figures/?{PERIOD}&lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Rp 1,040,000,000" in html and "Rp 1,580,000,000" not in html
    regency_table = re.search(r'<table class="figures" id="t-regency">.*?</table>', html, re.S)
    assert regency_table and "Sumbawa" in regency_table.group(0)
    assert "Ngada" not in regency_table.group(0)  # company B's origin

    officer = as_user("officer.ntb@test.id")
    html = officer.get(f"/figures/?{PERIOD}&lang=en").get_data(as_text=True)
    assert "Rp 1,040,000,000" in html  # their province by default
    assert 'href="/figures/batches.csv?' in html
    other = officer.get(f"/figures/?{PERIOD}&province=53&lang=en").get_data(as_text=True)
    assert "Rp 540,000,000" in other and 'href="/figures/batches.csv?' not in other
    assert officer.get(f"/figures/batches.csv?{PERIOD}&province=53").status_code == 403
    everything = officer.get(f"/figures/?{PERIOD}&province=all&lang=en").get_data(as_text=True)
    assert "Rp 1,580,000,000" in everything

    admin = as_user("admin@test.id").get(f"/figures/?{PERIOD}&lang=id").get_data(as_text=True)
    assert "Rp 1.580.000.000" in admin  # Indonesian number format


def test_page_has_accessible_charts_and_the_map(reg: Registry, as_user: Any) -> None:
    html = as_user("admin@test.id").get(f"/figures/?{PERIOD}&lang=en").get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 5
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        assert "style=" not in svg and "<script" not in svg
    map_svg = next(s for s in svgs if 'id="chart-map"' in s)
    assert len(re.findall(r"<path [^>]*data-regency=", map_svg)) == 41
    assert "Kabupaten Sumbawa: Rp 840,000,000" in map_svg
    assert "cahyadsn/wilayah_boundaries" in html
    assert 'id="t-regency"' in html and "<script" not in html


@pytest.mark.parametrize("query", [
    "from_month=2026-13", "from_month=garbage&to_month=2026-04", "province=99",
    "category=weapons", "destination=ZZ", "from_month=2026-05&to_month=2026-01",
    "from_month=1900-01&to_month=2026-01", "province=%00", "from_month=99999-01",
    "destination=nl&destination=NL",
])
def test_bad_filters_are_ignored_with_a_message(world: World, as_user: Any, query: str) -> None:
    client = as_user("admin@test.id")
    page = client.get(f"/figures/?{query}&lang=en")
    assert page.status_code in (200, 400, 422)
    if page.status_code == 200:
        assert "were not valid and were ignored" in page.get_data(as_text=True) or (
            query.startswith("destination=nl"))
    assert client.get(f"/figures/batches.csv?{query}").status_code in (400, 422)


def test_csv_export_escapes_formulas(reg: Registry, as_user: Any) -> None:
    response = as_user("admin@test.id").get(f"/figures/batches.csv?{PERIOD}&province=all")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    import csv

    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Approved at (WITA)", "Lot code", "Exporter"]
    assert len(rows[0]) == len(exports.COLUMNS) and len(rows) == 5
    cells = [c for r in rows[1:] for c in r]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'=HYPERLINK(\"x\")" in cells and "'+cmd|calc" in cells
    assert "'@SUM(1+1)" in cells and "'-LOT4" in cells
    a2 = next(r for r in rows if r[1] == "A-LOT-2")
    column = exports.COLUMNS.index
    assert a2[column("normalised_quantity")] == "2000"
    assert a2[column("approved_at")] == "2026-04-01 07:00:00"  # WITA
    assert a2[column("origin_regency")] == "Kabupaten Sumbawa"
    assert (a2[column("unit")], a2[column("normalised_unit")]) == ("tonnes", "kg")
    assert (a2[column("category")], a2[column("status")]) == ("Fishery", "Certified")
    assert (a2[column("hs_code")], a2[column("hs_description")]) == (
        "030342", "Fish; frozen, yellowfin tunas (Thunnus albacares), excluding fillets, fish "
                  "meat of 0304, and edible fish offal of subheadings 0303.91 to 0303.99")


def test_exports_say_what_a_reader_reads_in_the_exporter_s_language(
        reg: Registry, as_user: Any, db: Session) -> None:
    """Words, not codes, in the reader's language; the status shown today: a batch past its
    validity is expired, not approved (issue 15 §1)."""
    a2 = next(b for b in reg.world.session.exec(select(Batch)) if b.lot_code == "A-LOT-2")
    db.execute(text("UPDATE batch SET valid_until = :d WHERE id = :id"),
               {"d": dt.date.today() - dt.timedelta(days=1), "id": a2.id})
    db.commit()
    officer = as_user("officer.ntb@test.id")
    body = officer.get(f"/figures/batches.csv?{PERIOD}&lang=id").get_data().decode("utf-8-sig")
    import csv

    header, *rows = list(csv.reader(io.StringIO(body)))
    column = exports.COLUMNS.index
    assert header[column("exporter")] == "Eksportir" and header[column("status")] == "Status"
    by_lot = {r[column("lot_code")]: r for r in rows}
    assert by_lot["A-LOT-2"][column("status")] == "Kedaluwarsa"
    assert by_lot["'-LOT4"][column("status")] == "Dibekukan"  # formula-safe lot
    assert by_lot["A-LOT-2"][column("unit")] == "ton"
    assert by_lot["A-LOT-1"][column("category")] == "Hasil pertanian"
    assert header[column("hs_description")] == "Uraian HS"
    assert by_lot["A-LOT-2"][column("hs_description")].startswith(
        "Ikan tuna sirip kuning (Thunnus albacares), beku")
    sheet = load_workbook(io.BytesIO(xlsx_export(officer, PERIOD).get_data()),
                          read_only=True).active
    xlsx_rows = list(sheet.iter_rows(values_only=True))
    assert list(xlsx_rows[0]) == header
    assert {r[column("status")] for r in xlsx_rows[1:]} == {"Kedaluwarsa", "Dibekukan",
                                                              "Tersertifikasi"}


def test_csv_safe_unit() -> None:
    for bad in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert exports.csv_safe(bad) == "'" + bad
    assert exports.csv_safe("Madu") == "Madu" and exports.csv_safe(-5) == -5


def test_xlsx_export_opens_and_keeps_text_as_text(reg: Registry, as_user: Any) -> None:
    response = xlsx_export(as_user("officer.ntb@test.id"), PERIOD)
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=False).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "Lot code"
    assert sorted(r[1] for r in rows[1:]) == ["-LOT4", "A-LOT-1", "A-LOT-2"]  # NTB only
    names = [c for c in sheet["E"] if c.value == '=HYPERLINK("x")']
    assert names and all(c.data_type == "s" for c in names)
    value_col = exports.COLUMNS.index("declared_value_idr")
    assert sum(r[value_col] for r in rows[1:]) == 1_040_000_000


@pytest.mark.parametrize(("lang", "value", "word"), [
    ("en", "Rp 500,000,000", "April 2026"), ("id", "Rp 500.000.000", "April 2026")])
def test_monthly_pdf_report_has_the_totals(reg: Registry, as_user: Any, lang: str, value: str,
                                           word: str) -> None:
    response = as_user("officer.ntt@test.id").get(
        f"/figures/report.pdf?month=2026-04&province=52&lang={lang}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.get_data())
    content = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert value in content and word in content
    assert "Nusa Tenggara Barat" in content
    assert "Made in Bali–NTB–NTT" in content


def test_monthly_report_rejects_bad_parameters(reg: Registry, as_user: Any) -> None:
    client = as_user("admin@test.id")
    for query in ("month=2026-04&province=99&lang=en", "month=x&province=52&lang=en",
                  "month=2026-04&province=52&lang=xx", "month=&province=52", "month=99999-01"):
        assert client.get(f"/figures/report.pdf?{query}").status_code == 400
    # Missing parameters take defaults: last month, all three provinces for the admin.
    response = client.get("/figures/report.pdf")
    assert response.status_code == 200
    assert "report-all-" in response.headers["Content-Disposition"]


def test_default_period_is_the_last_twelve_months(world: World, db: Session) -> None:
    f = queries.default_filters(db, world.officer_ntt, dt.date(2026, 11, 25))
    assert (f.start, f.end, f.province) == (dt.date(2025, 12, 1), dt.date(2026, 11, 1), "53")
    assert queries.default_filters(db, world.admin, dt.date(2026, 1, 5)).province is None


def test_nearest_rank() -> None:
    assert queries.nearest_rank({}, 0.5) is None
    assert queries.nearest_rank({24: 1, 26: 1, 48: 1, 240: 1}, 0.5) == 26
    assert queries.nearest_rank({24: 1, 26: 1, 48: 1, 240: 1}, 0.9) == 240
    assert queries.nearest_rank({5: 10}, 0.9) == 5
