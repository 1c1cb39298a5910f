"""file digests for the shared object store: the SHA-256 of product photos and of the
photo frozen with a batch, checked on every read like the evidence documents' ``sha256``

Existing rows keep NULL: a migration cannot read the files (the store is app
configuration), so ``flask --app registry files import`` records them as it copies the upload
folder into the store. A NULL digest is served unchecked until then, never refused.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 04:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("product", "photo_sha256"), ("batch", "product_photo_sha256"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(
                column, sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
