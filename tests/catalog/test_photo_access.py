"""Who may see a product's photo (``catalog.services.product_photo``): its own exporter, an
officer of a province a batch of it was submitted from, an administrator; anyone else, and
anyone for a product without a photo, gets NotFound (ids reveal nothing). Through HTTP the
route × role matrix (tests/test_access.py) checks the same for a submitted batch."""

from __future__ import annotations

import pytest
from test_uploads import make_image

from conftest import World
from registry.catalog import services as catalog
from registry.exceptions import NotFound


def _with_photo(world: World) -> None:
    catalog.set_product_photo(world.session, world.exporter_a, world.product_a.id,
                              make_image("PNG"), store=world.store, max_bytes=10**7,
                              max_pixels=10**7)
    world.session.commit()


def _sees(world: World, user: str) -> bool:
    try:
        found = catalog.product_photo(world.session, getattr(world, user), world.product_a.id)
    except NotFound:
        return False
    assert found == (world.product_a.photo_stored_name, world.product_a.photo_sha256)
    return True


READERS = ("exporter_a", "exporter_b", "officer_ntb", "officer_ntt", "officer_bali", "admin",
           "printer")


@pytest.mark.parametrize(("submitted", "seen_by"), [
    # Product A's batch comes from NTB (regency 52.04).
    (False, {"exporter_a", "admin"}),
    (True, {"exporter_a", "officer_ntb", "admin"}),
])
def test_who_sees_a_product_photo(world: World, submitted: bool, seen_by: set[str]) -> None:
    _with_photo(world)
    if submitted:
        world.submit(world.batch_a, world.exporter_a)
    assert {user for user in READERS if _sees(world, user)} == seen_by


def test_no_photo_is_not_found_even_for_its_owner(world: World) -> None:
    with pytest.raises(NotFound):
        catalog.product_photo(world.session, world.exporter_a, world.product_a.id)
    with pytest.raises(NotFound):
        catalog.product_photo(world.session, world.admin, 10**6)
