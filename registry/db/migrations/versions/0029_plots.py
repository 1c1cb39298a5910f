"""plots: production plots of a batch for EU due diligence (EUDR geolocation), their
geometry as GeoJSON, declared and measured area, production period

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'plot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('kind', text(length=8), nullable=False),
        sa.Column('geometry', sa.Text(), nullable=False),
        sa.Column('declared_ha', sa.Numeric(12, 4), nullable=False),
        sa.Column('measured_ha', sa.Numeric(12, 4), nullable=True),
        sa.Column('production_place', text(length=200), nullable=False),
        sa.Column('producer_name', text(length=200), nullable=False),
        sa.Column('production_start', sa.Date(), nullable=False),
        sa.Column('production_end', sa.Date(), nullable=False),
        sa.Column('added_by', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id']),
        sa.ForeignKeyConstraint(['added_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_plot_batch_id', 'plot', ['batch_id'])


def downgrade() -> None:
    op.drop_index('ix_plot_batch_id', table_name='plot')
    op.drop_table('plot')
