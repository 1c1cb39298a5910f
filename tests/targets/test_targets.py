"""Yearly targets through real HTTP on both databases: an office sets them (audited), the
progress page, its CSV/XLSX, the monthly and the yearly reports (PDF text) and the API show
progress; another province's office cannot set them; a finished year is frozen; bad input is
a form error or a problem, and writes nothing.

The registry (approvals moved into January of this year, or of last year, WITA):

batch company origin   product (category, HS)     quantity  dest  value (IDR)    approved
a1    A       52 NTB   honey (agriculture, 09)    1200 kg   NL    540,000,000    Jan, this year
a2    A       52 NTB   fish (fishery, 03)         2 t       JP    300,000,000    Jan, this year
a3    A       52 NTB   honey                      300 kg    NL    200,000,000    Jun, last year
b1    B       53 NTT   coffee (agriculture, 09)   1200 kg   NL    540,000,000    Jan, this year
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pypdfium2
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlmodel import Session

from conftest import Client, World, batch_input
from registry.audit.models import AuditEvent
from registry.audit.tags import EventTag
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.rules import ProductInput
from registry.clock import REGION_TZ, today
from registry.exceptions import Conflict, Forbidden
from registry.figures import summary
from registry.targets import services
from registry.targets.models import Target
from registry.targets.rules import assess, expected_share
from registry.targets.services import TargetInput
from tests.api.api_helpers import api_for, assert_problem

YEAR = today().year


def wita(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, tzinfo=REGION_TZ).astimezone(dt.UTC)


@pytest.fixture
def reg(world: World) -> World:
    w, s = world, world.session
    fish = catalog.create_product(s, w.exporter_a, ProductInput(
        name_id="Ikan", name_en="Fish", category="fishery", hs_code="030342"))
    a2 = catalog.create_batch(s, w.exporter_a, batch_input(
        fish, "A-LOT-2", "52.04", quantity=Decimal("2"), unit="t", destination_country="JP",
        declared_value_idr=300_000_000))
    a3 = catalog.create_batch(s, w.exporter_a, batch_input(
        w.product_a, "A-LOT-3", "52.04", quantity=Decimal("300"),
        declared_value_idr=200_000_000))
    s.commit()
    approved = {w.batch_a.id: wita(YEAR, 1, 5), a2.id: wita(YEAR, 1, 20),
                a3.id: wita(YEAR - 1, 6, 15), w.batch_b.id: wita(YEAR, 1, 7)}
    for batch, exporter, officer in ((w.batch_a, w.exporter_a, w.officer_ntb),
                                     (a2, w.exporter_a, w.officer_ntb),
                                     (a3, w.exporter_a, w.officer_ntb),
                                     (w.batch_b, w.exporter_b, w.officer_ntt)):
        w.submit(batch, exporter)
        w.decide(batch, officer, Action.APPROVE)
    for batch_id, at in approved.items():
        s.execute(text("UPDATE batch SET submitted_at = :t WHERE id = :id"),
                  {"t": at - dt.timedelta(hours=30), "id": batch_id})
        s.execute(text("UPDATE decision SET created_at = :t WHERE batch_id = :id"),
                  {"t": at, "id": batch_id})
    # Backdated behind the services' back: the figures' summary cells are rebuilt, as the
    # README tells an operator to after such a repair.
    summary.rebuild(s)
    s.commit()
    return w


def _targets(db: Session) -> int:
    return db.execute(select(func.count()).select_from(Target)).scalar_one()


def _events(db: Session, tag: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == tag)))  # type: ignore[arg-type]


def _verdict_word(share: str) -> str:
    verdict = assess(Decimal(share), Decimal(1), expected_share(YEAR, today())).verdict
    return {"ahead": "Ahead", "on_track": "On track", "behind": "Behind"}[verdict]


def _edit(year: int = YEAR, province: str = "52") -> str:
    return f"/targets/edit?year={year}&province={province}"


def _set(client: Client, data: dict[str, str], year: int = YEAR, province: str = "52") -> Any:
    form = {"metric": "value_idr", "category": "", "hs_chapter": "", "unit": "",
            "destination": "", **data}
    return client.post(_edit(year, province), form, token_from=_edit(year, province))


def pdf_text(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in doc)
    finally:
        doc.close()


def set_ntb_targets(client: Client) -> None:
    client.login("officer.ntb@test.id")
    for data in ({"metric": "value_idr", "amount": "2,000,000,000"},
                 {"metric": "export_volume", "category": "agriculture", "unit": "kg",
                  "amount": "2400"},
                 {"metric": "export_volume", "hs_chapter": "03", "unit": "kg", "amount": "4000"},
                 {"metric": "batches", "amount": "4"},
                 {"metric": "active_exporters", "amount": "2"}):
        response = _set(client, data)
        assert response.status_code == 302, response.get_data(as_text=True)[-3000:]


def test_officer_sets_targets_and_the_page_shows_progress(reg: World, db: Session,
                                                          client: Client) -> None:
    set_ntb_targets(client)
    assert _targets(db) == 5
    assert len(_events(db, EventTag.Target.CREATE)) == 5
    # The same kind of target again: the amount changes, audited as a change.
    response = _set(client, {"metric": "value_idr", "amount": "1,680,000,000"})
    assert response.status_code == 302
    assert _targets(db) == 5
    [change] = _events(db, EventTag.Target.UPDATE)
    assert change.actor_label == "officer.ntb@test.id"
    assert '"amount":"2000000000.000"' in (change.before or "")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Target changed" in page and "Rp 1,680,000,000" in page

    page = client.get(f"/targets/?year={YEAR}&province=52").get_data(as_text=True)
    # Value: a1 + a2 = 840 M of 1,680 M; NTT's b1 and last year's a3 do not count.
    assert "Rp 840,000,000" in page and "50.0%" in page
    # Volume of farm produce: a1's 1,200 kg of 2,400; HS chapter 03: a2's 2 t as 2,000 kg.
    assert "1,200 kg" in page and "2,000 kg" in page
    assert page.count('data-verdict="') == 5
    assert f"<td>{_verdict_word('0.5')}</td>" in page
    # A chart per target with its title and description, and the month-by-month table.
    assert page.count('class="chart" id="chart-target-') == 5
    assert "<title id=\"chart-target-1-t\">" in page and "<desc id=\"chart-target-1-d\">" in page
    assert 'id="t-target-1"' in page
    assert "officer.ntb@test.id" in page and "WITA" in page
    assert "Set targets" in page  # the office's own province: it may set them
    # A mistyped bookmark still shows a year, and says what it ignored.
    page = client.get("/targets/?year=abc&province=99").get_data(as_text=True)
    assert "Some choices were not valid and were ignored" in page
    assert f"The yearly targets of Nusa Tenggara Barat for {YEAR}" in page

    # Another province's office reads the targets (the figures are shared) but may not set.
    other = Client(client.http.application.test_client())
    other.login("officer.ntt@test.id")
    page = other.get(f"/targets/?year={YEAR}&province=52").get_data(as_text=True)
    assert "Rp 840,000,000" in page and "Set targets" not in page


def test_the_page_in_indonesian(reg: World, db: Session, client: Client) -> None:
    services.set_target(db, reg.officer_ntb, TargetInput(
        year=YEAR, province="52", metric="batches", amount="4"), today=today())
    db.commit()
    client.login("officer.ntb@test.id")
    page = client.get(f"/targets/?year={YEAR}&province=52",
                      headers={"Accept-Language": "id"}).get_data(as_text=True)
    verdict = {"Ahead": "Lebih cepat", "On track": "Sesuai jalur",
               "Behind": "Tertinggal"}[_verdict_word("0.5")]
    assert "Target dan kemajuan" in page and "Batch tersertifikasi" in page
    assert f"<td>{verdict}</td>" in page and "50,0%" in page


def test_another_provinces_office_cannot_set_targets(reg: World, db: Session,
                                                     client: Client) -> None:
    client.login("officer.ntt@test.id")
    assert client.get(_edit()).status_code == 403
    response = _set(client, {"amount": "1000"}, province="52")
    assert response.status_code == 403
    # Region-wide targets are the admin's.
    assert _set(client, {"amount": "1000"}, province="all").status_code == 403
    assert _targets(db) == 0
    assert _events(db, EventTag.Target.CREATE) == []
    with pytest.raises(Forbidden):
        services.set_target(db, reg.officer_ntt, TargetInput(
            year=YEAR, province="52", metric="batches", amount="4"), today=today())
    # The admin sets any province's and the region's.
    admin = Client(client.http.application.test_client())
    admin.login("admin@test.id")
    assert _set(admin, {"amount": "5,000,000,000"}, province="all").status_code == 302
    assert _set(admin, {"amount": "3"}, province="53").status_code == 302
    assert _targets(db) == 2
    page = admin.get(f"/targets/?year={YEAR}&province=all").get_data(as_text=True)
    # The region: a1 + a2 + b1.
    assert "Rp 1,380,000,000" in page


def test_a_finished_year_is_frozen(reg: World, db: Session, client: Client) -> None:
    client.login("officer.ntb@test.id")
    page = client.get(_edit(YEAR - 1)).get_data(as_text=True)
    assert 'id="targets-frozen"' in page and 'action="/targets/edit' not in page
    response = _set(client, {"amount": "1000"}, year=YEAR - 1)
    assert response.status_code == 200
    assert "This year has ended: its targets are frozen." in response.get_data(as_text=True)
    assert _targets(db) == 0
    with pytest.raises(Conflict):
        services.set_target(db, reg.officer_ntb, TargetInput(
            year=YEAR - 1, province="52", metric="batches", amount="4"), today=today())
    # A target set in the year freezes once the year is over.
    services.set_target(db, reg.officer_ntb, TargetInput(
        year=YEAR, province="52", metric="batches", amount="4"), today=today())
    db.commit()
    with pytest.raises(Conflict):
        services.set_target(db, reg.officer_ntb, TargetInput(
            year=YEAR, province="52", metric="batches", amount="5"),
            today=dt.date(YEAR + 1, 1, 1))
    db.rollback()
    assert [str(t.amount) for t in db.scalars(select(Target))] in (["4"], ["4.000"])


@pytest.mark.parametrize(("data", "message"), [
    ({"amount": "lots"}, "Enter a number"),
    ({"amount": "0"}, "This number is out of range."),
    ({"metric": "export_volume", "amount": "10"}, "A volume target is for one commodity"),
    ({"metric": "export_volume", "category": "fishery", "amount": "10"},
     "Choose the unit of the volume."),
    ({"metric": "batches", "amount": "2.5"}, "Enter a whole number."),
    ({"hs_chapter": "9x", "amount": "10"}, "Enter an HS chapter as two digits"),
    ({"metric": "nonsense", "amount": "10"}, "Not a valid choice"),
])
def test_bad_input_is_a_form_error_and_writes_nothing(
        reg: World, db: Session, client: Client, data: dict[str, str], message: str) -> None:
    client.login("officer.ntb@test.id")
    before = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    response = _set(client, data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _targets(db) == 0
    assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == before


def test_exports_and_reports_carry_the_progress(reg: World, db: Session,
                                                client: Client) -> None:
    set_ntb_targets(client)
    query = f"year={YEAR}&province=52"
    csv = client.get(f"/targets/progress.csv?{query}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 6
    value = next(line for line in lines if "Declared export value" in line)
    assert "Rp 840,000,000" in value and "42.0%" in value and "Rp 2,000,000,000" in value
    xlsx = client.get(f"/targets/progress.xlsx?{query}")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][2] == "Target" and len(rows) == 6
    assert any(r[4] == "2,000 kg" and r[5] == "50.0%" for r in rows[1:])
    assert client.get("/targets/progress.csv?year=abc&province=52").status_code == 400

    # The monthly report of January: the progress measured at the month's end.
    report = client.get(f"/figures/report.pdf?month={YEAR}-01&province=52&lang=en")
    assert report.status_code == 200
    words = pdf_text(report.data)
    assert f"Progress against the targets of {YEAR}" in words
    assert "Rp 840,000,000" in words and "42.0%" in words
    assert f"{Decimal(31) / (366 if YEAR % 4 == 0 else 365):.1%}" in words  # Jan 31

    # The yearly evaluation, in English and in Indonesian, against the previous year.
    evaluation = client.get(f"/targets/evaluation.pdf?{query}&lang=en")
    assert evaluation.status_code == 200 and evaluation.mimetype == "application/pdf"
    words = pdf_text(evaluation.data)
    assert f"yearly evaluation {YEAR}" in words and f"Compared with {YEAR - 1}" in words
    assert "Rp 840,000,000" in words and "Rp 200,000,000" in words  # this year, last year
    assert "Top commodities" in words and "Top destinations" in words
    assert "New exporters" in words and "Approval lead time, median" in words
    assert "Suspicious activity" in words
    assert "Farm produce" in words and "Netherlands" in words
    words_id = pdf_text(client.get(f"/targets/evaluation.pdf?{query}&lang=id").data)
    assert f"{YEAR}" in words_id and "Rp 840.000.000" in words_id
    assert words_id != words
    assert client.get(f"/targets/evaluation.pdf?{query}&lang=fr").status_code == 400
    # The region's evaluation: the three provinces together.
    region = pdf_text(client.get(f"/targets/evaluation.pdf?year={YEAR}&province=all&lang=en")
                      .data)
    assert "The region (all three provinces)" in region and "Rp 1,380,000,000" in region


def test_exporters_see_no_targets(reg: World, db: Session, client: Client) -> None:
    client.login("a@test.id")
    assert client.get("/targets/").status_code == 403
    report = client.get(f"/figures/report.pdf?month={YEAR}-01&province=52&lang=en")
    assert "Progress against the targets" not in pdf_text(report.data)


# ---------------------------------------------------------------- API
def test_api_sets_and_reads_targets(reg: World, db: Session, app: Any) -> None:
    ntb = api_for(app, db, reg.officer_ntb)
    body = {"year": YEAR, "province": "52", "metric": "export_volume", "category": "agriculture",
            "unit": "kg", "amount": "2400"}
    response = ntb.post("/targets", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    [item] = response.json["items"]
    assert item["achieved"] == "1200.000" and item["amount"] == "2400.000"
    assert item["share"] == 0.5 and item["set_by"] == "officer.ntb@test.id"
    assert item["monthly"][0] == "1200.000"
    assert item["verdict"] == assess(Decimal("0.5"), Decimal(1),
                                     expected_share(YEAR, today())).verdict.value
    assert len(_events(db, EventTag.Target.CREATE)) == 1
    ntb.post("/targets", json={**body, "amount": "3000"})
    listed = ntb.get(f"/targets?year={YEAR}")  # the officer's own province by default
    assert listed.status_code == 200 and listed.json["province"] == "52"
    assert [i["amount"] for i in listed.json["items"]] == ["3000.000"]
    assert len(_events(db, EventTag.Target.UPDATE)) == 1

    # Another province's office: refused, nothing written.
    ntt = api_for(app, db, reg.officer_ntt)
    assert_problem(ntt.post("/targets", json={**body, "amount": "9"}), 403)
    # A read-only token may read, not write.
    reader = api_for(app, db, reg.officer_ntb, access="read")
    assert reader.get(f"/targets?year={YEAR}&province=52").status_code == 200
    assert_problem(reader.post("/targets", json=body), 403)
    # A finished year: 409; an impossible target: 422 with its codes.
    problem = assert_problem(ntb.post("/targets", json={**body, "year": YEAR - 1}), 409)
    assert problem["codes"] == {"year": "frozen"}
    problem = assert_problem(ntb.post("/targets", json={**body, "unit": None}), 422)
    assert problem["codes"] == {"unit": "volume_needs_unit"}
    assert_problem(ntb.post("/targets", json={**body, "amount": "-1"}), 422)
    assert_problem(ntb.get("/targets?year=1999"), 422)
    # Exporters have no targets.
    assert_problem(api_for(app, db, reg.exporter_a).get(f"/targets?year={YEAR}"), 403)
    assert [str(t.amount) for t in db.scalars(select(Target))] in (["3000"], ["3000.000"])


def test_a_plan_from_the_previous_year(reg: World, db: Session) -> None:
    """What the demo calls: last year's results plus growth, through set_target."""
    made = services.plan_from_previous_year(db, reg.officer_ntb, YEAR, "52",
                                            growth=Decimal("0.5"), today=today())
    db.commit()
    # Last year: a3 alone (200 M, one batch, company A).
    assert sorted((t.metric, Decimal(t.amount)) for t in made) == [
        ("active_exporters", 2), ("batches", 2), ("value_idr", 300_000_000)]
    assert len(_events(db, EventTag.Target.CREATE)) == 3
    with pytest.raises(Forbidden):
        services.plan_from_previous_year(db, reg.officer_ntt, YEAR, "52",
                                         growth=Decimal("0.1"), today=today())


def test_change_starts_from_the_listed_target(reg: World, db: Session, client: Client) -> None:
    target, _created = services.set_target(db, reg.officer_ntb, TargetInput(
        year=YEAR, province="52", metric="export_volume", category="fishery", unit="kg",
        amount="2500.5"), today=today())
    db.commit()
    client.login("officer.ntb@test.id")
    page = client.get(_edit() + f"&target={target.id}").get_data(as_text=True)
    assert 'value="2,500.5"' in page
    assert '<option selected value="fishery">' in page or 'value="fishery" selected' in page
    # Another province's or year's target is not the form's.
    assert client.get(_edit(province="all") + f"&target={target.id}").status_code == 403
    admin = Client(client.http.application.test_client())
    admin.login("admin@test.id")
    assert admin.get(_edit(province="53") + f"&target={target.id}").status_code == 404
    assert admin.get(_edit() + f"&target={target.id}").status_code == 200


def test_the_figures_page_leads_offices_to_their_targets(reg: World, client: Client) -> None:
    client.login("officer.ntb@test.id")
    page = client.get("/figures/").get_data(as_text=True)
    assert f'href="/targets/?year={today().year}&amp;province=52"' in page
    exporter = Client(client.http.application.test_client())
    exporter.login("a@test.id")
    assert 'id="targets-link"' not in exporter.get("/figures/").get_data(as_text=True)


def test_the_offices_audit_log_shows_their_targets(reg: World, db: Session,
                                                   client: Client) -> None:
    services.set_target(db, reg.officer_ntb, TargetInput(
        year=YEAR, province="52", metric="batches", amount="4"), today=today())
    db.commit()
    client.login("officer.ntb@test.id")
    # Once as the action filter's choice, once as the event.
    page = client.get("/audit?object_type=target").get_data(as_text=True)
    assert page.count("Yearly target set") == 2
    other = Client(client.http.application.test_client())
    other.login("officer.ntt@test.id")
    page = other.get("/audit?object_type=target").get_data(as_text=True)
    assert page.count("Yearly target set") == 1
