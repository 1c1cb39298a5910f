"""shipments: a certified batch's shipments through the Bali hub (issue 18 §1)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'shipment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('hub', text(length=32), nullable=False),
        sa.Column('planned_date', sa.Date(), nullable=False),
        sa.Column('peb_number', text(length=6), nullable=False),
        sa.Column('peb_date', sa.Date(), nullable=False),
        sa.Column('transport_document', text(length=35), nullable=False),
        sa.Column('containers', text(length=700), nullable=False),
        sa.Column('destination_locode', text(length=5), nullable=False),
        sa.Column('quantity', sa.Numeric(14, 3), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('declared_by', sa.Integer(), nullable=False),
        sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('passage_date', sa.Date(), nullable=True),
        sa.Column('remarks', text(length=1000), nullable=False),
        sa.Column('refusal_reason', text(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id']),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id']),
        sa.ForeignKeyConstraint(['declared_by'], ['user.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_shipment_batch_id'), 'shipment', ['batch_id'], unique=False)
    op.create_index(op.f('ix_shipment_organisation_id'), 'shipment', ['organisation_id'],
                    unique=False)
    op.create_index('ix_shipment_status_declared', 'shipment', ['status', 'declared_at'],
                    unique=False)
    op.create_index('ix_shipment_hub_passage', 'shipment', ['hub', 'passage_date'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_shipment_hub_passage', table_name='shipment')
    op.drop_index('ix_shipment_status_declared', table_name='shipment')
    op.drop_index(op.f('ix_shipment_organisation_id'), table_name='shipment')
    op.drop_index(op.f('ix_shipment_batch_id'), table_name='shipment')
    op.drop_table('shipment')
