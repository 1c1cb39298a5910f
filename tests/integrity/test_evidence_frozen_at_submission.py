"""Evidence cannot change once a batch is submitted, not even by an upload or a removal that
races the submission: whichever request commits second is refused with 409 and leaves no
trace (issue 11, section 8: late documents were left on submitted batches)."""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
from api.api_helpers import api_for, assert_problem
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, World, batch_input, evidence_pdf
from registry.audit.models import AuditEvent
from registry.catalog import services as catalog
from registry.catalog.models import Batch, Document

TRIALS = 6


def _race(*requests: Callable[[], Any]) -> list[int]:
    """Run the requests in their own threads, released together; their status codes."""
    barrier = threading.Barrier(len(requests), timeout=30)
    codes: list[int] = [0] * len(requests)

    def run(i: int) -> None:
        barrier.wait()
        codes[i] = requests[i]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def _seq(db: Session, action: str, batch_id: int) -> list[int]:
    return list(db.exec(select(AuditEvent.seq).where(
        AuditEvent.action == action, AuditEvent.object_type == "batch",
        AuditEvent.object_id == batch_id)).all())


def _fresh_batches(world: World, db: Session, count: int) -> list[Batch]:
    batches = []
    for i in range(count):
        batch = world.batch(world.exporter_a, world.product_a, f"RACE-{i}", "52.04")
        world.attach_evidence(batch, world.exporter_a, kind="phytosanitary")
        world.attach_evidence(batch, world.exporter_a, kind="lab_results")
        batches.append(batch)
    db.commit()
    return batches


def _signed_in(make_client: Callable[[], Client], batch_id: int) -> tuple[Client, str]:
    client = make_client()
    client.login("a@test.id")
    return client, client.token(f"/batches/{batch_id}")


def test_upload_racing_the_submit_never_lands_on_a_submitted_batch(
    world: World, db: Session, make_client: Callable[[], Client]
) -> None:
    late = []
    for batch in _fresh_batches(world, db, TRIALS):
        submitter, token_s = _signed_in(make_client, batch.id)
        uploader, token_u = _signed_in(make_client, batch.id)
        codes = _race(
            lambda b=batch, c=submitter, t=token_s: c.http.post(
                f"/batches/{b.id}/submit", data={"csrf_token": t}),
            lambda b=batch, c=uploader, t=token_u: c.http.post(
                f"/batches/{b.id}/documents", content_type="multipart/form-data",
                data={"csrf_token": t, "kind": "organic",
                      "file": (io.BytesIO(evidence_pdf("late")), "late.pdf")}),
        )
        submitted, added = _seq(db, "batch.submit", batch.id), _seq(db, "document.add", batch.id)
        late += [s for s in added if submitted and s > submitted[0]]
        db.expire_all()
        docs = db.exec(select(Document).where(Document.batch_id == batch.id)).all()
        # The loser is told 409 and leaves nothing: a refused upload no row, no event; a
        # refused submission (the upload bumped the version first) a draft.
        assert sorted(codes) in ([302, 302], [302, 409]), codes
        assert db.get(Batch, batch.id).status == ("submitted" if codes[0] == 302 else "draft")
        assert len(docs) == (3 if codes[1] == 302 else 2) == len(added), codes
    assert late == [], "documents added after the submission"


def test_removal_racing_the_submit_never_strips_a_submitted_batch(
    world: World, db: Session, make_client: Callable[[], Client]
) -> None:
    late = []
    for batch in _fresh_batches(world, db, TRIALS):
        victim = catalog.list_documents(db, batch)[0]
        submitter, token_s = _signed_in(make_client, batch.id)
        remover, token_r = _signed_in(make_client, batch.id)
        codes = _race(
            lambda b=batch, c=submitter, t=token_s: c.http.post(
                f"/batches/{b.id}/submit", data={"csrf_token": t}),
            lambda b=batch, c=remover, t=token_r, d=victim.id: c.http.post(
                f"/batches/{b.id}/documents/{d}/delete", data={"csrf_token": t}),
        )
        submitted = _seq(db, "batch.submit", batch.id)
        removed = _seq(db, "document.remove", batch.id)
        late += [s for s in removed if submitted and s > submitted[0]]
        db.expire_all()
        docs = db.exec(select(Document).where(Document.batch_id == batch.id)).all()
        assert sorted(codes) in ([302, 302], [302, 409]), codes
        assert db.get(Batch, batch.id).status == ("submitted" if codes[0] == 302 else "draft")
        assert len(docs) == (1 if codes[1] == 302 else 2), codes
    assert late == [], "documents removed after the submission"


def test_removing_the_last_document_while_submitting_never_submits_without_evidence(
    world: World, db: Session, make_client: Callable[[], Client]
) -> None:
    for i in range(TRIALS):
        batch = world.batch(world.exporter_a, world.product_a, f"LAST-{i}", "52.04")
        only = world.attach_evidence(batch, world.exporter_a)
        db.commit()
        submitter, token_s = _signed_in(make_client, batch.id)
        remover, token_r = _signed_in(make_client, batch.id)
        codes = _race(
            lambda b=batch, c=submitter, t=token_s: c.http.post(
                f"/batches/{b.id}/submit", data={"csrf_token": t}),
            lambda b=batch, c=remover, t=token_r, d=only.id: c.http.post(
                f"/batches/{b.id}/documents/{d}/delete", data={"csrf_token": t}),
        )
        db.expire_all()
        status = db.get(Batch, batch.id).status
        docs = catalog.list_documents(db, batch)
        # Submitted with its document (the removal refused), or a draft without it (the
        # submission refused for want of evidence); never submitted with nothing.
        assert (codes, status, len(docs)) in (([302, 409], "submitted", 1),
                                              ([422, 302], "draft", 0)), (codes, status)


def test_no_upload_or_removal_after_submission(world: World, db: Session,
                                               client: Client) -> None:
    world.submit(world.batch_a, world.exporter_a)
    doc = catalog.list_documents(db, world.batch_a)[0]
    client.login("a@test.id")
    response = client.post(f"/batches/{world.batch_a.id}/documents", {
        "kind": "organic", "file": (io.BytesIO(evidence_pdf()), "late.pdf")},
        content_type="multipart/form-data", token_from=f"/batches/{world.batch_a.id}")
    assert response.status_code == 409
    assert client.post(f"/batches/{world.batch_a.id}/documents/{doc.id}/delete").status_code \
        == 409
    db.expire_all()
    assert len(catalog.list_documents(db, world.batch_a)) == 1


def test_a_draft_still_takes_documents_in_parallel(
    world: World, db: Session, make_client: Callable[[], Client]
) -> None:
    """The lock serialises evidence changes with the submission, not with each other."""
    batch = catalog.create_batch(db, world.exporter_a,
                                 batch_input(world.product_a, "PARALLEL-1", "52.04"))
    db.commit()
    clients = [_signed_in(make_client, batch.id) for _ in range(2)]
    codes = _race(*[
        lambda c=c, t=t: c.http.post(
            f"/batches/{batch.id}/documents", content_type="multipart/form-data",
            data={"csrf_token": t, "kind": "organic",
                  "file": (io.BytesIO(evidence_pdf()), "doc.pdf")})
        for c, t in clients])
    assert codes == [302, 302]
    db.expire_all()
    assert len(catalog.list_documents(db, batch)) == 2


FROZEN = {"en": "This batch was submitted: its evidence can no longer be changed.",
          "id": "Batch ini sudah diajukan: dokumen buktinya tidak dapat diubah lagi."}


def _submitted_after_the_check(world: World, batch: Batch,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The change's first check still saw a draft, and the submission committed before the
    change took the batch's lock: the lost race of the tests above, made certain (the lock
    refuses it with ``EvidenceFrozen``)."""
    world.submit(batch, world.exporter_a)
    monkeypatch.setattr(catalog, "editable_batch", lambda session, actor, batch_id:
                        catalog.get_batch(session, actor, batch_id))


@pytest.mark.parametrize("change", ["upload", "removal"])
def test_change_that_lost_the_race_says_why(world: World, db: Session, client: Client,
                                            monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    doc = world.attach_evidence(world.batch_a, world.exporter_a)
    db.commit()
    client.login("a@test.id")
    token = client.token(f"/batches/{world.batch_a.id}")
    _submitted_after_the_check(world, world.batch_a, monkeypatch)
    if change == "upload":
        response = client.http.post(
            f"/batches/{world.batch_a.id}/documents", content_type="multipart/form-data",
            data={"csrf_token": token, "kind": "organic",
                  "file": (io.BytesIO(evidence_pdf("late")), "late.pdf")})
    else:
        response = client.http.post(f"/batches/{world.batch_a.id}/documents/{doc.id}/delete",
                                    data={"csrf_token": token})
    assert response.status_code == 409
    assert FROZEN["en"] in html.unescape(response.get_data(as_text=True))
    db.expire_all()
    assert db.get(Batch, world.batch_a.id).status == "submitted"
    assert [d.id for d in catalog.list_documents(db, world.batch_a)] == [doc.id]


def test_api_upload_that_lost_the_race_says_why_in_the_readers_language(
    app: Flask, world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.attach_evidence(world.batch_a, world.exporter_a)
    api = api_for(app, db, world.exporter_a)
    _submitted_after_the_check(world, world.batch_a, monkeypatch)
    response = api.post(f"/batches/{world.batch_a.id}/documents", data={
        "kind": "organic", "file": (io.BytesIO(evidence_pdf("late")), "late.pdf")},
        content_type="multipart/form-data", headers={"Accept-Language": "id"})
    assert assert_problem(response, 409)["detail"] == FROZEN["id"]
    db.expire_all()
    assert len(catalog.list_documents(db, world.batch_a)) == 1
