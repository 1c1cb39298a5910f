"""Two desk users mark the same report handled at the same moment (the NTB office and the
exporter, in parallel requests): exactly one note is kept, with one audit event; the other
is told it was already handled. No 500, no second write."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from conftest import World
from registry.audit.models import AuditEvent
from registry.verify.models import FakeReport


def _handle(start: threading.Barrier, answers: list[Any], user: Any, path: str, token: str,
            note: str) -> None:
    start.wait()
    answers.append(user.http.post(path, data={"csrf_token": token, "note": note}))


def test_parallel_handling_keeps_one_note(app: Flask, world: World, db: Session,
                                          make_client: Any) -> None:
    for round_ in range(3):
        report = FakeReport(gtin="00490000000016", lot="A-LOT-1", serial=str(round_ + 1),
                            verdict="not_genuine", message="fake", language="en",
                            client="0" * 16, product_id=world.product_a.id,
                            organisation_id=world.company_a.id, province_code="52",
                            kind="bad_signature")
        db.add(report)
        db.commit()
        users = []
        for email in ("officer.ntb@test.id", "a@test.id"):
            user = make_client()
            user.login(email)
            users.append((user, user.token("/desk")))
        start = threading.Barrier(2)
        answers: list[Any] = []

        path = f"/desk/reports/{report.id}/handle?lang=en"
        threads = [threading.Thread(target=_handle, args=(start, answers, u, path, t, f"note {n}"))
                   for n, (u, t) in enumerate(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(a.status_code for a in answers) == [302, 302], [
            a.get_data(as_text=True)[:300] for a in answers]
        db.expire_all()
        stored = db.get(FakeReport, report.id)
        assert stored is not None and stored.handled_note in ("note 0", "note 1")
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "fake.handled",
                                                  AuditEvent.object_id == str(report.id))).all()
        assert len(events) == 1
