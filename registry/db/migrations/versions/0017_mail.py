"""mail: what the registry tells people, written in the transaction of what it reports and
sent after it, with its delivery state

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', text(length=40), nullable=False),
        sa.Column('to_address', text(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('locale', text(length=8), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('state', text(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', text(length=500), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_user_id', 'mail', ['user_id'])
    op.create_index('ix_mail_due', 'mail', ['state', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_mail_due', table_name='mail')
    op.drop_index('ix_mail_user_id', table_name='mail')
    op.drop_table('mail')
