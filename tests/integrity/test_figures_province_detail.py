"""Part 8 of issue 11: in figures an officer sees row-level detail (rejection reasons, batch
lines) only of their own province; the totals of the other provinces stay visible. Today
officer.ntb read NTT's rejection reasons on the dashboard."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from conftest import Client, World, batch_input
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from tests.figures.export_support import ask_xlsx, xlsx_export

NTB_REASON = "Sertifikat fitosanitari Lombok kedaluwarsa"
NTT_REASON = "Dokumen halal Ngada tidak sah"


@pytest.fixture
def decided(world: World) -> World:
    w = world
    a2 = catalog.create_batch(w.session, w.exporter_a, batch_input(w.product_a, "A-LOT-2",
                                                                   "52.04"))
    b2 = catalog.create_batch(w.session, w.exporter_b, batch_input(w.product_b, "B-LOT-2",
                                                                   "53.09"))
    w.session.commit()
    for batch, exporter in ((w.batch_a, w.exporter_a), (a2, w.exporter_a),
                            (w.batch_b, w.exporter_b), (b2, w.exporter_b)):
        w.submit(batch, exporter)
    w.decide(w.batch_a, w.officer_ntb, Action.APPROVE)
    w.decide(w.batch_b, w.officer_ntt, Action.APPROVE)
    w.decide(a2, w.officer_ntb, Action.REJECT, reason=NTB_REASON)
    w.decide(b2, w.officer_ntt, Action.REJECT, reason=NTT_REASON)
    return w


def rejections(page: str) -> int:
    match = re.search(r"<dt>Rejections</dt><dd>(\d+)</dd>", page)
    assert match, "no rejection total on the page"
    return int(match.group(1))


@pytest.mark.parametrize("province", ["all", "53"])
def test_officer_sees_no_reasons_of_another_province(client: Client, decided: World,
                                                     province: str) -> None:
    client.login("officer.ntb@test.id")
    page = client.get(f"/figures/?province={province}").get_data(as_text=True)
    assert NTT_REASON not in page and NTT_REASON.lower() not in page
    # The totals stay: both rejections in the joint view, NTT's one in NTT's view.
    assert rejections(page) == (2 if province == "all" else 1)
    if province == "all":
        assert NTB_REASON in page  # their own province's reasons are theirs to read


def test_officer_reads_their_own_province_in_full(client: Client, decided: World) -> None:
    client.login("officer.ntt@test.id")
    page = client.get("/figures/?province=53").get_data(as_text=True)
    assert NTT_REASON in page and NTB_REASON not in page
    assert rejections(page) == 1


def test_admin_reads_every_province(client: Client, decided: World) -> None:
    client.login("admin@test.id")
    page = client.get("/figures/?province=all").get_data(as_text=True)
    assert NTT_REASON in page and NTB_REASON in page


def test_batch_lines_only_of_the_officers_province(client: Client, decided: World) -> None:
    client.login("officer.ntb@test.id")
    for province in ("all", "53"):
        assert client.get(f"/figures/batches.csv?province={province}").status_code == 403
        # The XLSX is asked for (a job on the task queue) and refused the same way.
        assert ask_xlsx(client, f"province={province}").status_code == 403
    csv = client.get("/figures/batches.csv?province=52").get_data(as_text=True)
    assert "A-LOT-1" in csv and "B-LOT-1" not in csv
    xlsx = xlsx_export(client, "province=52").get_data()
    cells = {str(c.value) for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows()
             for c in row}
    assert "A-LOT-1" in cells and "B-LOT-1" not in cells
    page = client.get("/figures/?province=53").get_data(as_text=True)
    assert "B-LOT-1" not in page
