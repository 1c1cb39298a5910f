"""Officers decide for their province only; two officers racing leave exactly one decision."""

from __future__ import annotations

import datetime as dt
import html
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from conftest import CHEAP_HASHING, PASSWORD, Client, World, enrol_second_factor
from registry.accounts import services as accounts
from registry.accounts.models import Role
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action, Status
from registry.catalog.models import Batch
from registry.clock import today
from registry.exceptions import Conflict
from registry.review import services as review
from registry.review.models import Decision


def _status(db: Session, batch_id: int) -> str:
    db.expire_all()
    return db.get(Batch, batch_id).status


def test_officer_approves_with_validity(client: Client, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    client.login("officer.ntb@test.id")
    queue = client.get("/review/").get_data(as_text=True)
    assert "A-LOT-1" in queue and "B-LOT-1" not in queue
    until = today() + dt.timedelta(days=200)
    response = client.post(f"/review/batches/{world.batch_a.id}/decide",
                           {"action": "approve", "version": "2", "valid_until": until.isoformat()})
    assert response.status_code == 302
    db.expire_all()
    batch = db.get(Batch, world.batch_a.id)
    assert batch.status == Status.APPROVED and batch.valid_until == until
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Batch approved and certified." in page


def test_reject_needs_a_reason(client: Client, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    client.login("officer.ntb@test.id")
    response = client.post(f"/review/batches/{world.batch_a.id}/decide",
                           {"action": "reject", "version": "2", "reason": "  "})
    assert response.status_code == 422
    assert "Please give a reason" in response.get_data(as_text=True)
    assert _status(db, world.batch_a.id) == Status.SUBMITTED
    assert db.exec(select(Decision)).all() == []


def test_approval_in_the_past_is_refused(client: Client, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    client.login("officer.ntb@test.id")
    response = client.post(f"/review/batches/{world.batch_a.id}/decide",
                           {"action": "approve", "version": "2", "valid_until": "2020-01-01"})
    assert response.status_code == 422
    assert "validity end date in the future" in response.get_data(as_text=True)
    assert _status(db, world.batch_a.id) == Status.SUBMITTED


@pytest.mark.parametrize("officer", ["officer.bali@test.id", "officer.ntt@test.id"])
def test_officer_of_another_province_cannot_decide(client: Client, world: World, db: Session,
                                                   officer: str) -> None:
    world.submit(world.batch_a, world.exporter_a)
    client.login(officer)
    assert client.get(f"/review/batches/{world.batch_a.id}").status_code == 404
    response = client.post(f"/review/batches/{world.batch_a.id}/decide",
                           {"action": "approve", "version": "2",
                            "valid_until": (today() + dt.timedelta(days=9)).isoformat()})
    assert response.status_code == 404
    assert _status(db, world.batch_a.id) == Status.SUBMITTED
    assert "A-LOT-1" not in client.get("/review/").get_data(as_text=True)


def test_stale_form_gets_a_clear_conflict(client: Client, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    client.login("officer.ntb@test.id")
    # The officer's page was loaded before the approval (version 2); now it is version 3.
    response = client.post(f"/review/batches/{world.batch_a.id}/decide",
                           {"action": "reject", "version": "2", "reason": "late"})
    assert response.status_code == 409
    assert "another officer decided" in response.get_data(as_text=True)
    assert _status(db, world.batch_a.id) == Status.APPROVED


RACE = ("another officer decided on this batch at the same time. The page now shows its "
        "current state.")
NOT_POSSIBLE = "this decision is not possible in the batch's current state."


@pytest.mark.parametrize("refusal", ["stale_version", "changed_while_writing", "not_allowed"])
def test_refused_decision_says_why(client: Client, world: World, db: Session,
                                   monkeypatch: pytest.MonkeyPatch, refusal: str) -> None:
    """The page's words follow the type of the service's refusal: ``BatchChanged`` (the
    version the page was read at is gone, or another decision landed between this request's
    read and its write) says another officer was first; ``DecisionNotAllowed`` says the
    batch's state does not allow it."""
    world.submit(world.batch_a, world.exporter_a)
    client.login("officer.ntb@test.id")
    form = {"action": "approve", "version": "2",
            "valid_until": (today() + dt.timedelta(days=30)).isoformat()}
    if refusal == "stale_version":
        form["version"] = "1"
    elif refusal == "changed_while_writing":
        real = review.update_if_unchanged

        def another_decision_first(session: Session, batch: Batch,
                                   values: dict[str, Any]) -> None:
            # Another request's write: the row moves on, this request's batch does not.
            session.execute(update(Batch).where(Batch.id == batch.id)
                            .values(version=Batch.version + 1)
                            .execution_options(synchronize_session=False))
            real(session, batch, values)

        monkeypatch.setattr(review, "update_if_unchanged", another_decision_first)
    else:
        form = {"action": "reinstate", "version": "2"}  # a submitted batch was never suspended
    response = client.post(f"/review/batches/{world.batch_a.id}/decide", form)
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    said, not_said = (NOT_POSSIBLE, RACE) if refusal == "not_allowed" else (RACE, NOT_POSSIBLE)
    assert f"Your decision was not saved: {said}" in page
    assert not_said not in page
    assert _status(db, world.batch_a.id) == Status.SUBMITTED
    assert db.exec(select(Decision)).all() == []


def test_full_lifecycle_through_http(client: Client, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    client.login("officer.ntb@test.id")
    steps = [
        ({"action": "approve", "valid_until": (today() + dt.timedelta(days=30)).isoformat()},
         Status.APPROVED),
        ({"action": "suspend", "reason": "lab check"}, Status.SUSPENDED),
        ({"action": "reinstate"}, Status.APPROVED),
        ({"action": "revoke", "reason": "fraud"}, Status.REVOKED),
    ]
    for data, expected in steps:
        version = str(db.get(Batch, world.batch_a.id).version)
        response = client.post(f"/review/batches/{world.batch_a.id}/decide",
                               {**data, "version": version})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert _status(db, world.batch_a.id) == expected
    # Revoked is final: no decision form is offered and a forged one is refused.
    page = client.get(f"/review/batches/{world.batch_a.id}").get_data(as_text=True)
    assert 'name="action"' not in page
    version = str(db.get(Batch, world.batch_a.id).version)
    response = client.post(f"/review/batches/{world.batch_a.id}/decide",
                           {"action": "reinstate", "version": version})
    assert response.status_code == 409
    assert _status(db, world.batch_a.id) == Status.REVOKED


def _second_ntb_officer(world: World) -> Any:
    user = accounts.create_user(world.session, None, email="officer2.ntb@test.id", name="Two",
                                role=Role.OFFICER, organisation_id=world.offices["52"].id,
                                password=PASSWORD, hashing=CHEAP_HASHING)
    enrol_second_factor(world.session, user)
    world.session.commit()
    return user


def test_racing_officers_exactly_one_wins(app: Flask, world: World, db: Session,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Both officers read the batch before either writes: the version guard picks one."""
    world.submit(world.batch_a, world.exporter_a)
    second = _second_ntb_officer(world)
    barrier = threading.Barrier(2, timeout=20)
    real_bump = review.update_if_unchanged

    def bump_after_both_read(*args: Any, **kwargs: Any) -> None:
        barrier.wait()
        real_bump(*args, **kwargs)

    monkeypatch.setattr(review, "update_if_unchanged", bump_after_both_read)
    outcomes: dict[str, str] = {}

    def officer(name: str, user_id: int, action: Action, extra: dict[str, Any]) -> None:
        with Session(app.extensions["engine"], expire_on_commit=False) as session:
            user = session.get(accounts.User, user_id)
            try:
                review.decide(session, user, world.batch_a.id, action=action,
                              expected_version=2, **extra)
                session.commit()
                outcomes[name] = "won"
            except Conflict:
                session.rollback()
                outcomes[name] = "conflict"

    threads = [
        threading.Thread(target=officer, args=("approve", world.officer_ntb.id, Action.APPROVE,
                                               {"valid_until": today() + dt.timedelta(days=90)})),
        threading.Thread(target=officer, args=("reject", second.id, Action.REJECT,
                                               {"reason": "incomplete"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
    db.expire_all()
    decisions = db.exec(select(Decision)).all()
    assert len(decisions) == 1
    events = db.exec(select(AuditEvent).where(
        AuditEvent.action.in_(["batch.approve", "batch.reject"]))).all()
    assert len(events) == 1
    winner = next(k for k, v in outcomes.items() if v == "won")
    assert decisions[0].action == winner
    assert _status(db, world.batch_a.id) == {"approve": "approved", "reject": "rejected"}[winner]


def test_racing_http_requests_exactly_one_decision(app: Flask, world: World, db: Session,
                                                   make_client: Any) -> None:
    world.submit(world.batch_a, world.exporter_a)
    _second_ntb_officer(world)
    clients = [make_client(), make_client()]
    clients[0].login("officer.ntb@test.id")
    clients[1].login("officer2.ntb@test.id")
    tokens = [c.token() for c in clients]
    forms = [
        {"action": "approve", "version": "2",
         "valid_until": (today() + dt.timedelta(days=60)).isoformat()},
        {"action": "reject", "version": "2", "reason": "incomplete papers"},
    ]
    barrier = threading.Barrier(2, timeout=20)
    codes: list[int] = []

    def post(i: int) -> None:
        barrier.wait()
        response = clients[i].post(f"/review/batches/{world.batch_a.id}/decide",
                                   {**forms[i], "csrf_token": tokens[i]})
        codes.append(response.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [302, 409]
    db.expire_all()
    assert len(db.exec(select(Decision)).all()) == 1
    assert len(db.exec(select(AuditEvent).where(
        AuditEvent.action.in_(["batch.approve", "batch.reject"]))).all()) == 1


def test_allowance_form_only_while_certified(client: Client, world: World, db: Session) -> None:
    """The review page offers to raise the label allowance exactly when the service would
    take it: approved or suspended, not before approval and not once revoked."""
    world.submit(world.batch_a, world.exporter_a)
    client.login("officer.ntb@test.id")
    form = f'action="/review/batches/{world.batch_a.id}/label-allowance"'
    offered = {}
    for action in (None, Action.APPROVE, Action.SUSPEND, Action.REVOKE):
        if action is not None:
            world.decide(world.batch_a, world.officer_ntb, action)
        page = client.get(f"/review/batches/{world.batch_a.id}").get_data(as_text=True)
        offered[_status(db, world.batch_a.id)] = form in page
    assert offered == {"submitted": False, "approved": True, "suspended": True,
                       "revoked": False}
