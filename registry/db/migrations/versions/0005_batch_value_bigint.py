"""batch.declared_value_idr as BIGINT

The form allows up to 10**15 IDR (rules.MAX_VALUE_IDR); a 32-bit INTEGER column made
PostgreSQL refuse anything above 2,147,483,647 with a 500.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 01:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.alter_column('declared_value_idr', existing_type=sa.Integer(),
                              type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.alter_column('declared_value_idr', existing_type=sa.BigInteger(),
                              type_=sa.Integer(), existing_nullable=False)
