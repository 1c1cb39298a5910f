"""label allowance: what an officer lets a batch's labels claim beyond its certified quantity

Issue 11 §4: the labels of a batch may claim at most its certified quantity plus a tolerance
plus these grants, each with its reason.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'label_allowance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(14, 3), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('granted_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount > 0', name='ck_label_allowance_amount'),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], ),
        sa.ForeignKeyConstraint(['granted_by'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('label_allowance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_allowance_batch_id'), ['batch_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('label_allowance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_allowance_batch_id'))
    op.drop_table('label_allowance')
