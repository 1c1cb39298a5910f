"""Evidence documents and product photos uploaded through the browser forms.

Good files are stored under a generated name in the file store (UPLOAD_DIR or an S3
bucket: every test runs on both) and served back only to those who
may see them; every bad file gets a message in the page and leaves no trace: no file, no
Document row, no audit event.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from sqlmodel import Session

from conftest import Client, World, evidence_pdf, read_object, stored_objects
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.catalog.models import Document, Product

MB = 1024 * 1024

MSG_BAD_TYPE = "Only PDF, JPEG and PNG files are accepted; this file is not one of them."
MSG_BROKEN = "The file is damaged or could not be read."
MSG_PIXELS = "The image has too many pixels (at most 40 megapixels)."
MSG_TOO_LARGE = "The file is too large (at most 10 MB)."
MSG_EMPTY = "The file is empty."
MSG_413 = "The file or request is too large."


# ---------------------------------------------------------------- real and fake files


def make_image(fmt: str, size: tuple[int, int] = (120, 80), exif: bool = False) -> bytes:
    img = Image.new("RGB", size, (200, 150, 40))
    for x in range(size[0]):
        img.putpixel((x, x % size[1]), (10, 10, 10))
    buf = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SecretCam"  # Make
        tags[0x8825] = {1: "S", 2: (8.0, 35.0, 0.0)}  # GPS info: where the photo was taken
        img.save(buf, fmt, exif=tags)
    else:
        img.save(buf, fmt)
    return buf.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_bomb(width: int, height: int, *, palette: bool = False) -> bytes:
    """A valid PNG with a huge pixel count but a tiny file: rows of zeros compress to nothing."""
    bit_depth, color_type = (8, 3) if palette else (1, 0)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    row = b"\x00" + bytes((width * bit_depth + 7) // 8)
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    chunks = [_chunk(b"IHDR", header)]
    if palette:
        chunks.append(_chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff"))
    chunks += [_chunk(b"IDAT", data), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def gif() -> bytes:
    buf = io.BytesIO()
    Image.new("P", (20, 20)).save(buf, "GIF")
    return buf.getvalue()


# ---------------------------------------------------------------- helpers


@pytest.fixture(params=["local", "s3"])
def file_store_kind(request: pytest.FixtureRequest) -> str:
    """Every upload test runs against the folder and against an S3 server."""
    return str(request.param)


def upload_dir(app: Flask) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def stored_files(app: Flask) -> list[str]:
    """Every object in the store, half-written files included."""
    return stored_objects(app)


def count(app: Flask, model: Any) -> int:
    with app.extensions["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def state(app: Flask) -> tuple[Any, ...]:
    with app.extensions["engine"].connect() as conn:
        photos = conn.execute(select(Product.id, Product.photo_stored_name)
                              .order_by(Product.id)).all()
    return stored_files(app), count(app, Document), count(app, AuditEvent), photos


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def upload_document(client: Client, batch_id: int, data: bytes, filename: str, *,
                    kind: str = "phytosanitary", public: bool = False) -> Any:
    form: dict[str, Any] = {"kind": kind, "file": (io.BytesIO(data), filename)}
    if public:
        form["is_public"] = "y"
    return client.post(f"/batches/{batch_id}/documents", form,
                       content_type="multipart/form-data")


def upload_photo(client: Client, product_id: int, data: bytes, filename: str) -> Any:
    return client.post(f"/products/{product_id}/photo", {"photo": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.fixture
def exporter(client: Client, world: World) -> Client:
    client.login("a@test.id")
    return client


def signed_in(make_client: Callable[[], Client], email: str) -> Client:
    other = make_client()
    other.login(email)
    return other


# ---------------------------------------------------------------- accepted files


def test_pdf_evidence_is_stored_under_a_generated_name_and_served_to_those_allowed(
    exporter: Client, world: World, app: Flask, db: Session, make_client: Callable[[], Client]
) -> None:
    pdf = evidence_pdf()
    before = stored_files(app)
    audit_before = count(app, AuditEvent)
    response = upload_document(exporter, world.batch_a.id, pdf, "Sertifikat fitosanitari.pdf",
                               public=True)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/batches/{world.batch_a.id}"
    page = page_text(exporter.get(response.headers["Location"]))
    assert "Document added." in page
    assert "Sertifikat fitosanitari.pdf" in page

    doc = db.exec(select(Document).where(Document.batch_id == world.batch_a.id)).one()[0]
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", doc.stored_name)
    assert doc.original_name == "Sertifikat fitosanitari.pdf"
    assert doc.content_type == "application/pdf"
    assert doc.is_public is True
    assert doc.size == len(pdf)
    new = sorted(set(stored_files(app)) - set(before))
    assert new == [doc.stored_name]
    assert read_object(app, doc.stored_name) == pdf
    assert count(app, AuditEvent) == audit_before + 1

    url = f"/batches/{world.batch_a.id}/documents/{doc.id}"
    download = exporter.get(url)
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == pdf
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "Sertifikat" in download.headers["Content-Disposition"]

    # The NTB office sees it once the batch is submitted, not while it is a draft.
    officer = signed_in(make_client, "officer.ntb@test.id")
    assert officer.get(url).status_code == 404
    world.submit(world.batch_a, world.exporter_a)
    download = officer.get(url)
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == pdf
    for email in ("officer.bali@test.id", "officer.ntt@test.id", "b@test.id"):
        assert signed_in(make_client, email).get(url).status_code == 404, email
    assert signed_in(make_client, "printer@test.id").get(url).status_code == 403


@pytest.mark.parametrize(("fmt", "filename", "mimetype", "suffix"), [
    ("PNG", "lab-result.png", "image/png", ".png"),
    ("JPEG", "halal.jpg", "image/jpeg", ".jpg"),
])
def test_image_evidence_is_accepted_and_served_as_image(
    fmt: str, filename: str, mimetype: str, suffix: str, exporter: Client, world: World,
    app: Flask, db: Session,
) -> None:
    data = make_image(fmt)
    response = upload_document(exporter, world.batch_a.id, data, filename, kind="lab_results")
    assert response.status_code == 302
    doc = db.exec(select(Document).where(Document.batch_id == world.batch_a.id)).one()[0]
    assert doc.stored_name.endswith(suffix)
    assert doc.stored_name != filename
    assert doc.stored_name in stored_files(app)
    download = exporter.get(f"/batches/{world.batch_a.id}/documents/{doc.id}")
    assert download.status_code == 200
    assert download.mimetype == mimetype
    with Image.open(io.BytesIO(download.data)) as img:
        assert img.format == fmt
        assert img.size == (120, 80)


def test_photo_location_metadata_is_not_kept(exporter: Client, world: World, app: Flask,
                                             db: Session) -> None:
    data = make_image("JPEG", exif=True)
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif()  # the test file really carries EXIF
    assert upload_photo(exporter, world.product_a.id, data, "farm.jpg").status_code == 302
    served = exporter.get(f"/products/{world.product_a.id}/photo")
    assert served.status_code == 200
    assert b"SecretCam" not in served.data
    with Image.open(io.BytesIO(served.data)) as img:
        assert not img.getexif()


@pytest.mark.parametrize(("fmt", "mimetype"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_product_photo_upload(fmt: str, mimetype: str, exporter: Client, world: World,
                              app: Flask, db: Session, make_client: Callable[[], Client]) -> None:
    before = stored_files(app)
    response = upload_photo(exporter, world.product_a.id, make_image(fmt), "honey." + fmt.lower())
    assert response.status_code == 302
    edit_page = exporter.get(response.headers["Location"])
    assert "Photo saved." in page_text(edit_page)
    assert f'src="/products/{world.product_a.id}/photo"' in page_text(edit_page)

    db.refresh(world.product_a)
    name = world.product_a.photo_stored_name
    assert name is not None and re.fullmatch(r"[0-9a-f]{32}\.(png|jpg)", name)
    assert sorted(set(stored_files(app)) - set(before)) == [name]
    served = exporter.get(f"/products/{world.product_a.id}/photo")
    assert served.status_code == 200
    assert served.mimetype == mimetype
    with Image.open(io.BytesIO(served.data)) as img:
        assert img.size == (120, 80)
    # Another company does not get it.
    assert signed_in(make_client, "b@test.id").get(
        f"/products/{world.product_a.id}/photo").status_code == 404


def test_file_name_cannot_steer_where_the_file_goes(exporter: Client, world: World,
                                                    app: Flask, db: Session,
                                                    tmp_path: Path) -> None:
    outside_before = sorted(p.name for p in upload_dir(app).parent.iterdir())
    response = upload_document(exporter, world.batch_a.id, evidence_pdf(), "../../escape.pdf")
    assert response.status_code == 302
    doc = db.exec(select(Document)).one()[0]
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", doc.stored_name)
    assert stored_files(app) == [doc.stored_name]
    assert sorted(p.name for p in upload_dir(app).parent.iterdir()) == outside_before
    assert not list(tmp_path.rglob("escape.pdf"))


# ---------------------------------------------------------------- refused files

REFUSED_DOCUMENTS = [
    pytest.param(lambda: b"This is a plain text file, not a certificate.\n", "certificate.pdf",
                 MSG_BAD_TYPE, id="text-named-pdf"),
    pytest.param(lambda: b"\x00\x01\x02 definitely not an image" * 50, "photo.png",
                 MSG_BAD_TYPE, id="junk-named-png"),
    pytest.param(gif, "scan.png", MSG_BAD_TYPE, id="gif-named-png"),
    pytest.param(lambda: b"<html><script>alert(1)</script></html>", "lab.pdf", MSG_BAD_TYPE,
                 id="html-named-pdf"),
    pytest.param(lambda: b"%PDF-1.7\nthis is no PDF structure at all\n", "fake.pdf", MSG_BROKEN,
                 id="pdf-header-only"),
    pytest.param(lambda: b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, "fake.png", MSG_BROKEN,
                 id="png-header-only"),
    pytest.param(lambda: make_image("PNG", (400, 300))[:300], "cut.png", MSG_BROKEN,
                 id="truncated-png"),
    pytest.param(lambda: png_bomb(20000, 20000), "bomb.png", MSG_PIXELS, id="bomb-1bit-400MP"),
    pytest.param(lambda: png_bomb(7000, 6000, palette=True), "bomb.png", MSG_PIXELS,
                 id="bomb-palette-42MP"),
    pytest.param(lambda: evidence_pdf() + b"%" + b"x" * (10 * MB), "huge.pdf", MSG_TOO_LARGE,
                 id="over-10MB"),
    pytest.param(lambda: b"", "empty.pdf", MSG_EMPTY, id="empty"),
]


@pytest.mark.parametrize(("payload", "filename", "message"), REFUSED_DOCUMENTS)
def test_refused_evidence_leaves_no_trace(payload: Callable[[], bytes], filename: str,
                                          message: str, exporter: Client, world: World,
                                          app: Flask) -> None:
    data = payload()
    before = state(app)
    response = upload_document(exporter, world.batch_a.id, data, filename)
    assert response.status_code == 422
    page = page_text(response)
    assert message in page
    assert "Batch A-LOT-1" in page  # the batch page again, with the form to retry
    assert state(app) == before


@pytest.mark.parametrize(("payload", "filename", "message"), [
    pytest.param(evidence_pdf, "photo.png", MSG_BAD_TYPE, id="pdf-as-photo"),
    pytest.param(lambda: b"GIF89a not really", "photo.png", MSG_BAD_TYPE, id="junk-named-png"),
    pytest.param(lambda: png_bomb(20000, 20000), "bomb.png", MSG_PIXELS, id="bomb-1bit-400MP"),
    pytest.param(lambda: png_bomb(7000, 6000, palette=True), "bomb.png", MSG_PIXELS,
                 id="bomb-palette-42MP"),
    pytest.param(lambda: b"\xff\xd8\xff" + b"\x00" * 64, "broken.jpg", MSG_BROKEN,
                 id="jpeg-header-only"),
    pytest.param(lambda: b"\xff\xd8\xff" + b"\x00" * (10 * MB), "huge.jpg", MSG_TOO_LARGE,
                 id="over-10MB"),
    pytest.param(lambda: b"", "empty.png", MSG_EMPTY, id="empty"),
])
def test_refused_photo_leaves_no_trace(payload: Callable[[], bytes], filename: str, message: str,
                                       exporter: Client, world: World, app: Flask,
                                       db: Session) -> None:
    # A photo is already there: a refused upload must not replace or remove it.
    assert upload_photo(exporter, world.product_a.id, make_image("PNG"), "old.png") \
        .status_code == 302
    before = state(app)
    response = upload_photo(exporter, world.product_a.id, payload(), filename)
    assert response.status_code == 422
    page = page_text(response)
    assert message in page
    assert "Edit product" in page
    assert state(app) == before
    assert exporter.get(f"/products/{world.product_a.id}/photo").status_code == 200


@pytest.mark.parametrize("target", ["document", "photo"])
def test_request_over_the_body_limit_gets_413(target: str, exporter: Client, world: World,
                                              app: Flask) -> None:
    data = evidence_pdf() + b"%" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + MB)
    before = state(app)
    if target == "document":
        response = upload_document(exporter, world.batch_a.id, data, "huge.pdf")
    else:
        response = upload_photo(exporter, world.product_a.id, data, "huge.png")
    assert response.status_code == 413
    assert MSG_413 in page_text(response)
    assert state(app) == before


def test_upload_without_a_file_asks_for_one(exporter: Client, world: World, app: Flask) -> None:
    before = state(app)
    response = exporter.post(f"/batches/{world.batch_a.id}/documents",
                             {"kind": "halal"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "This field is required." in page_text(response)
    assert state(app) == before


def test_photo_without_a_file_asks_for_one(exporter: Client, world: World, app: Flask) -> None:
    before = state(app)
    response = exporter.post(f"/products/{world.product_a.id}/photo", {},
                             content_type="multipart/form-data")
    assert response.status_code == 303
    assert "Please choose a JPEG or PNG photo." in page_text(
        exporter.get(response.headers["Location"]))
    assert state(app) == before


def test_unknown_document_kind_is_refused(exporter: Client, world: World, app: Flask) -> None:
    before = state(app)
    response = upload_document(exporter, world.batch_a.id, evidence_pdf(), "x.pdf", kind="passport")
    assert response.status_code == 422
    assert "Not a valid choice" in page_text(response)
    assert state(app) == before


# ---------------------------------------------------------------- frozen batches


def test_submitted_batch_refuses_uploads(exporter: Client, world: World, app: Flask) -> None:
    world.submit(world.batch_a, world.exporter_a)
    before = state(app)
    response = upload_document(exporter, world.batch_a.id, evidence_pdf(), "late.pdf")
    assert response.status_code == 409
    assert "<h1>409</h1>" in response.get_data(as_text=True)
    assert state(app) == before
    # The batch page no longer offers the upload form.
    page = page_text(exporter.get(f"/batches/{world.batch_a.id}"))
    assert "Add a document" not in page


def test_approved_batch_refuses_uploads_and_removals(exporter: Client, world: World, app: Flask,
                                                     db: Session) -> None:
    assert upload_document(exporter, world.batch_a.id, evidence_pdf(), "a.pdf").status_code == 302
    doc = db.exec(select(Document)).one()[0]
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    before = state(app)
    assert upload_document(exporter, world.batch_a.id, evidence_pdf(), "b.pdf").status_code == 409
    response = exporter.post(f"/batches/{world.batch_a.id}/documents/{doc.id}/delete", {})
    assert response.status_code == 409
    assert state(app) == before


def test_rejected_batch_takes_new_evidence(exporter: Client, world: World, app: Flask) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.REJECT, reason="lab results missing")
    response = upload_document(exporter, world.batch_a.id, evidence_pdf("Lab results"), "lab.pdf",
                               kind="lab_results")
    assert response.status_code == 302
    assert count(app, Document) == 2  # the one submitted first, and the new one
