"""The exporter's job through HTTP: products, draft batches, submission, frozen batches."""

from __future__ import annotations

from sqlmodel import Session, select

from conftest import Client, World, batch_form
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action, Status
from registry.catalog.models import Batch, Product
from registry.plots import services as plots


def _product_form(**overrides: str) -> dict[str, str]:
    data = {"name_id": "Kopi Arabika Flores", "name_en": "Flores Arabica Coffee",
            "category": "agriculture", "hs_code": "090111", "gtin": "", "description": ""}
    data.update(overrides)
    return data


def test_register_product_with_valid_gtin(client: Client, world: World, db: Session) -> None:
    client.login("a@test.id")
    response = client.post("/products/new", _product_form(gtin="8991234567891"))
    assert response.status_code == 302
    product = db.exec(select(Product).where(Product.name_en == "Flores Arabica Coffee")).one()
    assert product.gtin == "08991234567891"  # stored as GTIN-14
    assert product.organisation_id == world.company_a.id


def test_bad_gtin_check_digit_is_explained(client: Client, world: World, db: Session) -> None:
    client.login("a@test.id")
    response = client.post("/products/new", _product_form(gtin="8991234567892"))
    assert response.status_code == 200
    assert "not a valid GTIN" in response.get_data(as_text=True)
    assert db.exec(select(Product).where(Product.name_en == "Flores Arabica Coffee")).first() is (
        None
    )


def test_create_edit_and_submit_batch(client: Client, world: World, db: Session) -> None:
    client.login("a@test.id")
    response = client.post("/batches/new", batch_form(world.product_a.id))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    batch = db.exec(select(Batch).where(Batch.lot_code == "NEW-LOT-1")).one()
    assert batch.status == Status.DRAFT
    assert batch.origin_province_code == "52"
    assert str(batch.quantity) in ("950.500", "950.5")

    response = client.post(f"/batches/{batch.id}/edit",
                           batch_form(world.product_a.id, producer="KUB Madu Sumbawa"))
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Batch, batch.id).producer == "KUB Madu Sumbawa"

    world.attach_evidence(batch, world.exporter_a)
    world.add_plot(batch, world.exporter_a)  # coffee: EU due diligence
    db.commit()
    assert client.post(f"/batches/{batch.id}/submit").status_code == 302
    db.expire_all()
    assert db.get(Batch, batch.id).status == Status.SUBMITTED
    page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "Submitted" in page and "can no longer be edited" not in page


def test_submitted_batch_is_frozen(client: Client, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    client.login("a@test.id")
    events = len(db.exec(select(AuditEvent)).all())
    assert client.get(f"/batches/{world.batch_a.id}/edit").status_code == 409
    response = client.post(f"/batches/{world.batch_a.id}/edit",
                           batch_form(world.product_a.id, lot="A-LOT-1", producer="changed"))
    assert response.status_code == 409
    assert client.post(f"/batches/{world.batch_a.id}/submit").status_code == 409
    db.expire_all()
    assert db.get(Batch, world.batch_a.id).producer == "Koperasi Batu Dulang"
    assert len(db.exec(select(AuditEvent)).all()) == events  # refusals change nothing


def test_rejected_batch_can_be_corrected_and_resubmitted(client: Client, world: World,
                                                         db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.REJECT, reason="wrong regency")
    client.login("a@test.id")
    page = client.get(f"/batches/{world.batch_a.id}").get_data(as_text=True)
    assert "wrong regency" in page
    response = client.post(f"/batches/{world.batch_a.id}/edit",
                           batch_form(world.product_a.id, lot="A-LOT-1",
                                      origin_regency_code="52.05"))
    assert response.status_code == 302
    # The plot recorded for Sumbawa is now outside the origin: refused until it is replaced.
    assert client.post(f"/batches/{world.batch_a.id}/submit").status_code == 422
    db.expire_all()
    batch = db.get_one(Batch, world.batch_a.id)
    plots.remove_plot(db, world.exporter_a, batch.id, world.plot_a.id)
    world.add_plot(batch, world.exporter_a)
    db.commit()
    assert client.post(f"/batches/{world.batch_a.id}/submit").status_code == 302
    db.expire_all()
    batch = db.get(Batch, world.batch_a.id)
    assert batch.status == Status.SUBMITTED and batch.origin_regency_code == "52.05"


def test_field_errors_are_shown_and_nothing_is_saved(client: Client, world: World,
                                                     db: Session) -> None:
    client.login("a@test.id")
    cases = {
        "lot_code": ("has space", "Use up to 20 letters"),
        "production_date": ("2999-01-01", "cannot be in the future"),
        "origin_regency_code": ("99.99", "Not a valid choice"),
        "destination_country": ("XX", "Not a valid choice"),
    }
    for field, (value, message) in cases.items():
        response = client.post("/batches/new", batch_form(world.product_a.id, **{field: value}))
        assert response.status_code == 200, field
        assert message in response.get_data(as_text=True), field
    bad_dates = batch_form(world.product_a.id, best_before="2000-01-01")
    assert "earlier than the production date" in client.post(
        "/batches/new", bad_dates).get_data(as_text=True)
    duplicate = batch_form(world.product_a.id, lot="A-LOT-1")
    assert "already registered" in client.post("/batches/new", duplicate).get_data(as_text=True)
    assert db.exec(select(Batch).where(Batch.organisation_id == world.company_a.id)).all() == [
        world.batch_a
    ]


def test_regency_list_is_the_official_one(client: Client, world: World) -> None:
    client.login("a@test.id")
    page = client.get("/batches/new").get_data(as_text=True)
    assert page.count('<option value="5') >= 41
    for name in ("Kabupaten Sumbawa", "Kota Mataram", "Kabupaten Sabu Raijua", "Kota Kupang"):
        assert name in page


def test_exporter_cannot_use_another_companys_product(client: Client, world: World,
                                                      db: Session) -> None:
    client.login("a@test.id")
    response = client.post("/batches/new", batch_form(world.product_b.id))
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.exec(select(Batch).where(Batch.lot_code == "NEW-LOT-1")).first() is None


def test_dashboard_groups_by_status(client: Client, world: World) -> None:
    world.submit(world.batch_a, world.exporter_a)
    client.login("a@test.id")
    page = client.get("/batches").get_data(as_text=True)
    assert "A-LOT-1" in page and "B-LOT-1" not in page
    assert '<h2>Submitted</h2>' in page
