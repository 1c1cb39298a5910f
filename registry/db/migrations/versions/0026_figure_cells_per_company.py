"""figure cells per company: an exporter's dashboard reads its own company's cells (issue 17 §2)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = ('kind', 'category', 'destination', 'month', 'province', 'k1', 'k2', 'k3', 'unit',
           'batches', 'value_idr', 'quantity_milli', 'shown', 'shown_at')


def _create(with_org: bool, name: str = 'figure_cell') -> None:
    key = ['kind', 'org', 'category', 'destination', 'month', 'province', 'k1', 'k2', 'k3',
           'unit']
    op.create_table(
        name,
        sa.Column('kind', sa.String(length=4), nullable=False),
        *([sa.Column('org', sa.String(length=12), nullable=False)] if with_org else []),
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
        sa.PrimaryKeyConstraint(*[k for k in key if with_org or k != 'org']),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    # The company joins the primary key (second, so both an office's '*' cells and one
    # exporter's are a prefix seek): the table is made again, empty; 0030 fills it (by the
    # code of `flask figures rebuild`, which reads tables made after this revision).
    op.drop_table('figure_cell')
    _create(with_org=True)


def downgrade() -> None:
    # 0023's table holds the all-companies cells ('*'): the same rows without the column.
    _create(with_org=False, name='figure_cell_0023')
    columns = ', '.join(COLUMNS)
    op.execute(f"INSERT INTO figure_cell_0023 ({columns}) SELECT {columns} FROM figure_cell "
               "WHERE org = '*' OR kind = 'wm'")
    op.drop_table('figure_cell')
    op.rename_table('figure_cell_0023', 'figure_cell')
