"""The audit log on the web (issue 16 §6): administrators read every event, a trade officer
only those of the province's objects; filters by object, actor, action and days in WITA,
paged in SQL, newest first; a filter that means nothing is said on the form."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from conftest import CHEAP_HASHING, Client, World
from registry.accounts import services as accounts
from registry.api import tokens
from registry.audit import listing
from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.audit.tags import EventTag
from registry.catalog.certification import Action
from registry.clock import REGION_TZ, start_of_day, today
from registry.db.paging import Window
from registry.verify.models import FakeReport
from tests.conftest import PASSWORD


def signed_in(make_client: object, email: str) -> Client:
    client: Client = make_client()  # type: ignore[operator]
    client.login(email)
    return client


def busy_world(db: Session, world: World) -> dict[str, int]:
    """Events of both provinces' objects and of objects no office owns."""
    world.submit(world.batch_a, world.exporter_a)  # NTB origin
    world.submit(world.batch_b, world.exporter_b)  # NTT origin
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.decide(world.batch_b, world.officer_ntt, Action.REJECT, reason="Lab results missing")
    draft = world.batch(world.exporter_a, world.product_a, "A-DRAFT", "52.01")  # never submitted
    tokens.create_token(db, world.exporter_b, name="ERP", access="read")
    pending = accounts.signup_exporter(
        db, email="p@kupang.id", name="P", password=PASSWORD, company_name="CV Kupang",
        nib="9120300000009", province_code="53", address="Kupang", hashing=CHEAP_HASHING)
    report = FakeReport(gtin="0" * 14, lot="B-LOT-1", serial="1", verdict="not_genuine",
                        message="m", language="en", client="0" * 16, province_code="53",
                        kind="never_printed")
    db.add(report)
    db.flush()
    audit.record(db, actor=world.officer_ntt, action=EventTag.Fake.HANDLED,
                 object_type="fake_report", object_id=report.id)
    audit.record(db, actor=None, action=EventTag.Key.CREATE, object_type="signing_key",
                 object_id="kid-1")
    audit.record(db, actor=None, action=EventTag.Account.LOGIN_FAILED, object_type="user",
                 after={"email": "nobody@x.id"})
    db.commit()
    return {"draft": draft.id, "pending": pending.id, "report": report.id}


def pairs(db: Session, scope: listing.LogScope, **filters: object) -> list[tuple[str, str | None]]:
    page = listing.event_page(db, scope, listing.LogFilter(**filters),  # type: ignore[arg-type]
                              Window(1, 1000))
    return [(e.object_type, e.object_id) for e in page.items]


def test_an_officer_reads_only_the_provinces_objects(db: Session, world: World) -> None:
    ids = busy_world(db, world)
    everything = db.exec(select(AuditEvent)).all()
    ntb = pairs(db, listing.scope_for(db, world.officer_ntb))
    ntt = pairs(db, listing.scope_for(db, world.officer_ntt))
    admin = pairs(db, listing.scope_for(db, world.admin))
    assert len(admin) == len(everything)

    a, b = str(world.batch_a.id), str(world.batch_b.id)
    assert ("batch", a) in ntb and ("batch", b) not in ntb
    assert ("batch", b) in ntt and ("batch", a) not in ntt
    # Each province's companies, their users and products, and the office itself.
    assert ("user", str(world.exporter_a.id)) in ntb and ("user", str(world.exporter_b.id)) in ntt
    assert ("product", str(world.product_a.id)) in ntb
    assert ("user", str(world.officer_ntb.id)) in ntb
    assert ("user", str(ids["pending"])) in ntt and ("api_token", "1") in ntt
    assert ("fake_report", str(ids["report"])) in ntt
    own_ntb = {("batch", a), ("product", str(world.product_a.id)),
               ("organisation", str(world.company_a.id)),
               ("organisation", str(world.offices["52"].id)),
               ("user", str(world.exporter_a.id)), ("user", str(world.officer_ntb.id))}
    assert set(ntb) <= own_ntb
    # Never another province's objects, a draft, keys, print shops, admins or nobody.
    for seen in (ntb, ntt):
        assert ("batch", str(ids["draft"])) not in seen
        assert not {t for t, _ in seen} & {"signing_key", "file_store", "registry"}
        assert ("user", None) not in seen
        assert ("user", str(world.admin.id)) not in seen
        assert ("user", str(world.printer.id)) not in seen
    assert not set(ntb) & set(ntt)
    # Newest first.
    seqs = [e.seq for e in listing.event_page(db, listing.scope_for(db, world.admin),
                                              listing.LogFilter(), Window(1, 1000)).items]
    assert seqs == sorted(seqs, reverse=True)


def test_another_provinces_events_never_show_on_the_page(
        db: Session, world: World, make_client: object) -> None:
    busy_world(db, world)
    ntt = signed_in(make_client, "officer.ntt@test.id")
    ntb = signed_in(make_client, "officer.ntb@test.id")
    a = f"/audit?object_type=batch&object_id={world.batch_a.id}"
    assert "No events match." in ntt.get(a).get_data(as_text=True)
    page = ntb.get(a).get_data(as_text=True)
    assert "Approved" in page and "Submitted for certification" in page
    assert "WITA" in page and "officer.ntb@test.id" in page
    whole = ntt.get("/audit").get_data(as_text=True)
    assert "Rejected" in whole and "Lab results missing" in whole
    # What the events recorded is read in words, as the pages say it, never as codes.
    assert "<td>rejected</td>" not in whole and "<td>Rejected</td>" in whole
    assert "<td>exporter</td>" not in whole
    assert "<td>Approved</td>" not in whole and "a@test.id" not in whole
    assert "Audit log" in whole  # in the navigation


def test_filters_by_object_actor_action_and_days_in_wita(
        db: Session, world: World, make_client: object) -> None:
    busy_world(db, world)
    admin = listing.scope_for(db, world.admin)
    approvals = pairs(db, admin, action="batch.approve")
    assert approvals == [("batch", str(world.batch_a.id))]
    by_officer = pairs(db, admin, actor=" Officer.NTT@test.id ")
    assert by_officer and ("batch", str(world.batch_b.id)) in by_officer
    assert ("batch", str(world.batch_a.id)) not in by_officer
    assert set(pairs(db, admin, object_type="user", object_id=str(world.exporter_b.id))) == {
        ("user", str(world.exporter_b.id))}
    # Days are WITA days: today's events start at 16:00 UTC yesterday.
    day = today()
    assert pairs(db, admin, since=start_of_day(day)) == pairs(db, admin)
    assert pairs(db, admin, until=start_of_day(day)) == []
    assert start_of_day(day) == dt.datetime.combine(day, dt.time(), REGION_TZ)

    client = signed_in(make_client, "admin@test.id")
    iso = day.isoformat()
    page = client.get(f"/audit?action=batch.reject&since={iso}&until={iso}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Lab results missing" in body and "Approved</td>" not in body
    tomorrow = (day + dt.timedelta(days=1)).isoformat()
    assert "No events match." in client.get(f"/audit?since={tomorrow}").get_data(as_text=True)


def test_bad_filters_are_said_on_the_form_never_a_500(
        db: Session, world: World, make_client: object) -> None:
    client = signed_in(make_client, "officer.ntb@test.id")
    for query, words in (("since=2026-13-45", "Not a valid date value."),
                         ("since=2026-12-02&until=2026-12-01", "The last day is before the first."),
                         ("since=1900-01-01", "Choose a day between 2020 and 2999."),
                         ("until=9999-12-31", "Choose a day between 2020 and 2999."),
                         ("action=batch.nonsense", "Not a valid choice"),
                         ("object_type=spaceship", "Not a valid choice"),
                         ("object_id=" + "9" * 65, "longer than 64 characters"),
                         ("actor=a%E2%80%AEb@x.id", "text-direction")):
        response = client.get(f"/audit?{query}")
        assert response.status_code == 400, query
        body = response.get_data(as_text=True)
        assert words in body, (query, body[body.find("<main"):][:1500])
        assert "Please correct the filter." in body
    for query in ("page=abc", "page=-4", "object_id=%27%20OR%201=1", "actor=nobody"):
        assert client.get(f"/audit?{query}").status_code == 200, query


def test_paged_in_sql_newest_first_and_past_the_end_to_the_last_page(
        db: Session, world: World, make_client: object) -> None:
    for n in range(60):
        audit.record(db, actor=world.officer_ntb, action=EventTag.Batch.UPDATE,
                     object_type="organisation", object_id=world.offices["52"].id,
                     after={"n": n})
    db.commit()
    client = signed_in(make_client, "officer.ntb@test.id")
    query = f"object_type=organisation&object_id={world.offices['52'].id}"
    first = client.get(f"/audit?{query}").get_data(as_text=True)
    assert first.count('<tr id="event-') == 50
    assert "1–50 of 60" in first
    # The pager keeps the filter.
    nxt = first.split('rel="next"')[0].rsplit('href="', 1)[1]
    assert "page=2" in nxt and "object_type=organisation" in nxt
    newest = db.exec(select(AuditEvent).where(AuditEvent.object_type == "organisation")
                     .order_by(col(AuditEvent.seq).desc())).first()
    assert newest is not None
    assert first.split('<tr id="event-')[1].startswith(f'{newest.seq}"')
    second = client.get(f"/audit?{query}&page=2").get_data(as_text=True)
    assert second.count('<tr id="event-') == 10
    past = client.get(f"/audit?{query}&page=9")
    assert past.status_code == 302 and "page=2" in past.location


def test_the_officers_header_names_the_province(world: World, make_client: object) -> None:
    ntb = signed_in(make_client, "officer.ntb@test.id")
    assert "Trade office of Nusa Tenggara Barat" in ntb.get("/review/").get_data(as_text=True)
    bali = signed_in(make_client, "officer.bali@test.id")
    assert "Trade office of Bali" in bali.get("/audit").get_data(as_text=True)
    for email in ("a@test.id", "admin@test.id", "printer@test.id"):
        other = signed_in(make_client, email)
        assert "Trade office of" not in other.get("/about").get_data(as_text=True)


def test_exporters_and_print_shops_read_no_audit_log(app: Flask, world: World,
                                                     make_client: object) -> None:
    for email in ("a@test.id", "printer@test.id"):
        assert signed_in(make_client, email).get("/audit").status_code == 403


JUNK = st.text(max_size=80) | st.sampled_from(
    ["2026-02-30", "0000-00-00", "9999-12-31", "-1", "1e9", "\x00", "%", "batch", "user.signup"])
FIELDS = ("object_type", "object_id", "actor", "action", "since", "until", "page")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(FIELDS), JUNK, max_size=4))
def test_junk_in_the_filter_is_never_a_500(world: World, make_client: object,
                                           values: dict[str, str]) -> None:
    client = signed_in(make_client, "officer.ntb@test.id")
    response = client.http.get("/audit", query_string=values)
    # 422: a NUL anywhere is refused before any view (registry.web.database).
    assert response.status_code in (200, 302, 400, 422), (values, response.status_code)


def test_every_kind_of_object_has_its_indonesian_words(app: Flask) -> None:
    from flask_babel import force_locale

    from registry.audit.tags import ObjectType
    from registry.audit.vocabulary import OBJECT_TYPE_LABELS

    kinds = {v for k, v in vars(ObjectType).items() if k.isupper()}
    assert set(OBJECT_TYPE_LABELS) == kinds
    with app.test_request_context():
        with force_locale("id"):
            words = {kind: str(label) for kind, label in OBJECT_TYPE_LABELS.items()}
        with force_locale("en"):
            english = {kind: str(label) for kind, label in OBJECT_TYPE_LABELS.items()}
    # "Batch" is the Indonesian word too (as everywhere in the registry's pages).
    assert [k for k in kinds if words[k] == english[k]] == [ObjectType.BATCH]
