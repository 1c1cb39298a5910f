"""A batch's history says what changed: which fields an edit touched, which document was added
or removed, a decision's reason; in the reader's language, never a raw tag (issue 15 §1)."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Flask
from sqlmodel import Session

from conftest import Client, World, batch_input, evidence_pdf
from registry.catalog import services as catalog


def _history(client: Client, batch_id: int, lang: str) -> list[str]:
    html = client.get(f"/batches/{batch_id}?lang={lang}").get_data(as_text=True)
    block = html.split('<ol class="history">', 1)[1].split("</ol>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip()
            for li in re.findall(r"<li>(.*?)</li>", block, re.S)]


def test_history_names_the_changed_fields_and_the_document(
        app: Flask, client: Client, db: Session, world: World) -> None:
    batch = world.batch_a
    catalog.update_batch(db, world.exporter_a, batch.id, batch_input(
        world.product_a, "A-LOT-1", "52.04", quantity=Decimal("1250"),
        producer="KT Madu Baru"))
    catalog.add_document(db, world.exporter_a, batch.id, kind="halal", filename="halal-cert.pdf",
                         data=evidence_pdf(), is_public=True, store=world.store,
                         max_bytes=app.config["MAX_UPLOAD_BYTES"],
                         max_pixels=app.config["MAX_IMAGE_PIXELS"])
    db.commit()
    client.login("a@test.id")
    english = _history(client, batch.id, "en")
    assert any("Batch edited: Quantity, Producer or cooperative" in e for e in english), english
    assert any("Document added: Halal certificate: halal-cert.pdf" in e for e in english), english
    assert all("batch.update" not in e and "document.add" not in e for e in english)
    indonesian = _history(client, batch.id, "id")
    assert any("Batch diubah" in e or "Jumlah" in e for e in indonesian), indonesian
    assert all("." not in e.split("·")[1].split(":")[0] for e in indonesian), indonesian
