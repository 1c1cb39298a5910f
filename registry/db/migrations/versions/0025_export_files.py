"""export files: XLSX exports of the figures written by the task queue's worker into the file
store, with their filters, language, state, progress, lease and expiry

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-03 03:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'export_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('state', text(length=16), nullable=False),
        sa.Column('lang', text(length=8), nullable=False),
        sa.Column('from_month', sa.Date(), nullable=False),
        sa.Column('to_month', sa.Date(), nullable=False),
        sa.Column('province', text(length=2), nullable=True),
        sa.Column('category', text(length=40), nullable=True),
        sa.Column('destination', text(length=2), nullable=True),
        sa.Column('rows_total', sa.Integer(), nullable=True),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lease_token', text(length=64), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('object_name', text(length=128), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('sha256', text(length=64), nullable=True),
        sa.Column('error', text(length=500), nullable=True),
        sa.Column('downloads', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['requested_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_export_file_requested_by', 'export_file', ['requested_by'])
    op.create_index('ix_export_file_state', 'export_file', ['state', 'lease_until'])


def downgrade() -> None:
    op.drop_index('ix_export_file_state', table_name='export_file')
    op.drop_index('ix_export_file_requested_by', table_name='export_file')
    op.drop_table('export_file')
