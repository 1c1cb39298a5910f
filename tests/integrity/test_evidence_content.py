"""Evidence is what its bytes are: served with the sniffed type whatever the uploader called
the file, and PDFs that carry JavaScript or launch actions are refused with a message, even
when hidden in compressed object streams (issue 11, section 8)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pikepdf
import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func
from sqlmodel import Session, select

from conftest import Client, World, evidence_pdf, stored_objects
from registry.catalog.models import Document
from tests.api.api_helpers import api_for, assert_problem

MSG_ACTIVE = "PDF files with scripts or launch actions are not accepted"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 60)).save(buf, "PNG")
    return buf.getvalue()


def _upload(client: Client, batch_id: int, data: bytes, name: str) -> object:
    return client.post(f"/batches/{batch_id}/documents", {
        "kind": "lab_results", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data", token_from=f"/batches/{batch_id}")


@pytest.mark.parametrize(("make", "name", "sniffed"), [
    (_png, "report.html", "image/png"),
    (_png, "report.svg", "image/png"),
    (evidence_pdf, "certificate.html", "application/pdf"),
    (evidence_pdf, "certificate.png", "application/pdf"),
])
def test_evidence_is_served_as_what_it_is(client: Client, world: World, db: Session,
                                          make: Callable[[], bytes], name: str,
                                          sniffed: str) -> None:
    client.login("a@test.id")
    assert _upload(client, world.batch_a.id, make(), name).status_code == 302
    doc = db.exec(select(Document)).one()
    download = client.get(f"/batches/{world.batch_a.id}/documents/{doc.id}")
    assert download.status_code == 200
    assert download.mimetype == sniffed
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")


# ---------------------------------------------------------------- active PDFs


def _with(change: Callable[[pikepdf.Pdf], None], *, object_streams: bool = False) -> bytes:
    pdf = pikepdf.open(io.BytesIO(evidence_pdf()))
    change(pdf)
    out = io.BytesIO()
    mode = pikepdf.ObjectStreamMode.generate if object_streams else \
        pikepdf.ObjectStreamMode.disable
    pdf.save(out, object_stream_mode=mode, compress_streams=True)
    return out.getvalue()


def _open_action_js(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('hi')")))


def _launch(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))


def _names_tree_js(pdf: pikepdf.Pdf) -> None:
    action = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                  JS=pikepdf.String("this.print()")))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(
        Names=pikepdf.Array([pikepdf.String("x"), action])))


def _annotation_js(pdf: pikepdf.Pdf) -> None:
    # A direct action dictionary inside a link annotation on the page.
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 100, 100],
        A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("x()")))]))


def _page_aa(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].AA = pikepdf.Dictionary(O=pikepdf.Dictionary(
        S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")))


ACTIVE = [
    pytest.param(lambda: _with(_open_action_js), id="open-action-javascript"),
    pytest.param(lambda: _with(_launch), id="open-action-launch"),
    pytest.param(lambda: _with(_names_tree_js), id="document-javascript-names"),
    pytest.param(lambda: _with(_annotation_js), id="link-annotation-javascript"),
    pytest.param(lambda: _with(_page_aa), id="page-open-launch"),
    pytest.param(lambda: _with(_open_action_js, object_streams=True),
                 id="javascript-in-compressed-object-stream"),
    pytest.param(lambda: _with(_annotation_js, object_streams=True),
                 id="annotation-in-compressed-object-stream"),
]


def test_the_object_stream_cases_hide_the_names_from_a_byte_search() -> None:
    hidden = _with(_open_action_js, object_streams=True)
    assert b"/JavaScript" not in hidden and b"/JS" not in hidden


@pytest.mark.parametrize("make", ACTIVE)
def test_pdfs_with_scripts_or_launch_actions_are_refused(
    app: Flask, client: Client, world: World, db: Session, make: Callable[[], bytes]
) -> None:
    data = make()
    client.login("a@test.id")
    response = _upload(client, world.batch_a.id, data, "lab.pdf")
    assert response.status_code == 422
    assert MSG_ACTIVE in response.get_data(as_text=True)
    api = api_for(app, db, world.exporter_a)
    body = assert_problem(api.post(f"/batches/{world.batch_a.id}/documents", data={
        "kind": "lab_results", "file": (io.BytesIO(data), "lab.pdf")},
        content_type="multipart/form-data"), 422)
    assert body["codes"] == {"file": "active_pdf"}
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Document)).one() == 0
    assert stored_objects(app) == []


def test_a_plain_pdf_with_a_link_is_still_accepted(client: Client, world: World) -> None:
    def _uri_link(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 100, 100],
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://bpom.go.id"))
        )]))

    client.login("a@test.id")
    data = _with(_uri_link, object_streams=True)
    assert _upload(client, world.batch_a.id, data, "lab.pdf").status_code == 302
