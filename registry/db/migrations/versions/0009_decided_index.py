"""index for an office's decided batches

The officer's "decided batches" list shows the province's batches latest decision first, fifty
at a time. Without an index in that order every page sorted all of the province's decided
batches (a quarter of a million in the benchmark's registry) to show fifty.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 08:20:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.create_index('ix_batch_origin_decided',
                              ['origin_province_code', 'decided_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_origin_decided')
