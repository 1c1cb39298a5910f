"""What exporters and print shops see on the print path (issue 13 §1): the preview of the
stock chosen, reprint reasons, the print-shop list."""

from __future__ import annotations

import html
import io
import re

from PIL import Image
from sqlmodel import Session

from conftest import Client, World
from registry.catalog.models import Batch
from registry.certification import Action


def _approve(world: World, batch: Batch | None = None) -> Batch:
    batch = batch or world.batch_a
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    return batch


IMG_SRC = re.compile(r'<img class="label-preview" src="([^"]+)"')


def _preview_size(client: Client, page: str) -> tuple[int, int]:
    match = IMG_SRC.search(page)
    assert match, "no preview image on the page"
    png = client.get(html.unescape(match.group(1)))
    assert png.status_code == 200 and png.mimetype == "image/png"
    return Image.open(io.BytesIO(png.get_data())).size


def _mm(pixels: int, dpi: int = 200) -> float:
    return pixels / dpi * 25.4


def test_preview_shows_the_stock_chosen(client: Client, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    for stock, (w, h) in {"roll-50x30": (50, 30), "letter-3x10": (66.7, 25.4),
                          "roll-100x150": (100, 150)}.items():
        page = client.get(f"/batches/{batch.id}/labels?stock={stock}&net=250+g")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        width, height = _preview_size(client, text)
        assert abs(_mm(width) - w) < 0.5 and abs(_mm(height) - h) < 0.5, stock
        # The chosen stock stays selected in both forms.
        assert f'<option value="{stock}" selected>' in text  # the preview form
        assert f'<option selected value="{stock}">' in text  # the order form
    # After a refused order the preview shows the stock that was ordered.
    refused = client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "roll-60x40", "quantity": "0",
        "net_quantity": "250 g"})
    assert refused.status_code == 200
    width, height = _preview_size(client, refused.get_data(as_text=True))
    assert abs(_mm(width) - 60) < 0.5 and abs(_mm(height) - 40) < 0.5
