"""indexes for the label lookup

A label names its product and lot: batches are found by both at once, not by reading every
batch of the product. A serial's scan counts (total, distinct clients, recent, this client)
come from the index alone, without fetching each earlier scan's row. ``ix_scan_created`` goes:
``ix_scan_figures`` starts with the same column, and every index costs each recorded scan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 05:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_product_id')
        batch_op.create_index('ix_batch_product_lot', ['product_id', 'lot_code'], unique=False)
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_batch_serial')
        batch_op.drop_index('ix_scan_created')
        batch_op.create_index('ix_scan_serial_seen',
                              ['batch_id', 'serial_number', 'created_at', 'client'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_serial_seen')
        batch_op.create_index('ix_scan_batch_serial', ['batch_id', 'serial_number'],
                              unique=False)
        batch_op.create_index('ix_scan_created', ['created_at'], unique=False)
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_product_lot')
        batch_op.create_index('ix_batch_product_id', ['product_id'], unique=False)
