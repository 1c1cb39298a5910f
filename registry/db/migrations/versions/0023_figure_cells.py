"""figure cells: the figures' summary table (issue 17 §2), filled from the decisions

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'figure_cell',
        sa.Column('kind', sa.String(length=4), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('destination', sa.String(length=2), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('province', sa.String(length=2), nullable=False),
        sa.Column('k1', sa.String(length=64), nullable=False),
        sa.Column('k2', sa.String(length=32), nullable=False),
        sa.Column('k3', sa.String(length=16), nullable=False),
        sa.Column('unit', sa.String(length=8), nullable=False),
        sa.Column('batches', sa.BigInteger(), nullable=False),
        sa.Column('value_idr', sa.BigInteger(), nullable=False),
        sa.Column('quantity_milli', sa.BigInteger(), nullable=False),
        sa.Column('shown', sa.Text(), nullable=True),
        sa.Column('shown_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('kind', 'category', 'destination', 'month', 'province', 'k1',
                                'k2', 'k3', 'unit'),
        sqlite_with_rowid=False,
    )
    # Filled by 0026, which gives the cells their company column and rebuilds them with the
    # code of `flask figures rebuild` (today's code writes that column, so it cannot fill
    # this table; a registry that ran this revision before 0026 existed is rebuilt there).


def downgrade() -> None:
    op.drop_table('figure_cell')
