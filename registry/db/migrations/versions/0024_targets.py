"""targets: yearly targets of the provinces and the region (issue 17 §1)

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-03 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'target',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', text(length=80), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('province_code', text(length=2), nullable=True),
        sa.Column('metric', text(length=24), nullable=False),
        sa.Column('category', text(length=32), nullable=True),
        sa.Column('hs_chapter', text(length=2), nullable=True),
        sa.Column('unit', text(length=8), nullable=True),
        sa.Column('destination_country', text(length=2), nullable=True),
        sa.Column('amount', sa.Numeric(24, 3), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['set_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index(op.f('ix_target_year'), 'target', ['year'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_target_year'), table_name='target')
    op.drop_table('target')
