"""label files: print jobs rendered by the task queue's worker into the file store, with
their state, progress, lease and expiry

Existing jobs get no row: their first download asks the worker to render them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'label_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('format', text(length=16), nullable=False),
        sa.Column('state', text(length=16), nullable=False),
        sa.Column('labels_total', sa.Integer(), nullable=False),
        sa.Column('labels_done', sa.Integer(), nullable=False),
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
        sa.Column('kid', text(length=11), nullable=True),
        sa.Column('error', text(length=500), nullable=True),
        sa.Column('downloads', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['print_job.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('job_id', 'format', name='uq_label_file_job_format'),
    )
    op.create_index('ix_label_file_job_id', 'label_file', ['job_id'])
    op.create_index('ix_label_file_state', 'label_file', ['state', 'lease_until'])


def downgrade() -> None:
    op.drop_index('ix_label_file_state', table_name='label_file')
    op.drop_index('ix_label_file_job_id', table_name='label_file')
    op.drop_table('label_file')
