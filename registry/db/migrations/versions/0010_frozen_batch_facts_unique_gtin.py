"""frozen product facts on the batch; one GTIN, one product (issue 11 §1, §2)

What the office certified is what the buyer sees: the product as it was submitted (GTIN the
labels carry, names, category, HS code, description, photo) is frozen on the batch, and the
verification lookup finds a batch by ``(gtin, lot_code)`` (index ``ix_batch_gtin_lot``).
Existing submitted and decided batches are filled from their product as it is now, which is
what their labels and pages showed until today. Drafts stay NULL; they are frozen when
submitted.

``product.gtin`` becomes unique (NULL many times). An empty string is stored as NULL first.
Existing duplicates (possible before this revision: the check-then-insert raced) are resolved
so the upgrade never fails half-way: the product registered first (lowest id) keeps the GTIN;
every later product with the same GTIN loses it (set to NULL) and is named in the migration's
log (logger ``alembic.runtime.migration``), so the registry can tell those exporters. Their
already submitted batches keep the GTIN frozen above, so labels printed for them still resolve
(to the earliest such batch with that lot, as before); their future batches carry a registry
number until the product gets a GTIN that is really theirs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:50:00
"""
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

FROZEN = (
    ('gtin', 14), ('product_name_id', 300), ('product_name_en', 300),
    ('product_category', 32), ('product_hs_code', 6), ('product_description', 4000),
    ('product_photo', 64),
)


def _registry_gtin(product_id: int) -> str:
    """``0049`` + 9-digit product id + GS1 check digit (as
    registry.gs1.digital_link.registry_gtin, written out here so this revision never changes
    with the application code)."""
    body = f"0049{product_id:09d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('batch', schema=None) as batch_op:
        for name, length in FROZEN:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch_op.create_index('ix_batch_gtin_lot', ['gtin', 'lot_code'], unique=False)

    bind.execute(sa.text("UPDATE product SET gtin = NULL WHERE gtin = ''"))
    # Freeze every submitted or decided batch from its product (one UPDATE per product, so
    # the registry number is computed here rather than in dialect-specific SQL).
    products = bind.execute(sa.text(
        "SELECT DISTINCT p.id, p.gtin FROM product p JOIN batch b ON b.product_id = p.id "
        "WHERE b.status <> 'draft'")).all()
    # Correlated subqueries rather than UPDATE ... FROM: the same text on both databases and
    # on any SQLite version.
    freeze = sa.text(
        "UPDATE batch SET gtin = :gtin, "
        + ", ".join(f"{column} = (SELECT p.{source} FROM product p WHERE p.id = :id)"
                    for column, source in (
                        ("product_name_id", "name_id"), ("product_name_en", "name_en"),
                        ("product_category", "category"), ("product_hs_code", "hs_code"),
                        ("product_description", "description"),
                        ("product_photo", "photo_stored_name")))
        + " WHERE product_id = :id AND status <> 'draft'")
    for product_id, gtin in products:
        bind.execute(freeze, {"id": product_id, "gtin": gtin or _registry_gtin(product_id)})

    losers = bind.execute(sa.text(
        "SELECT p.id, p.gtin FROM product p WHERE p.gtin IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM product q WHERE q.gtin = p.gtin AND q.id < p.id) ORDER BY p.id")).all()
    for product_id, gtin in losers:
        log.warning("product %s loses GTIN %s: an earlier product holds it", product_id, gtin)
        bind.execute(sa.text("UPDATE product SET gtin = NULL WHERE id = :id"),
                     {"id": product_id})
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index('ix_product_gtin')
        batch_op.create_index('ix_product_gtin', ['gtin'], unique=True)


def downgrade() -> None:
    # The GTINs cleared from duplicate products are not restored: which company they belonged
    # to was the question the upgrade had to answer.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index('ix_product_gtin')
        batch_op.create_index('ix_product_gtin', ['gtin'], unique=False)
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_gtin_lot')
        for name, _length in reversed(FROZEN):
            batch_op.drop_column(name)
