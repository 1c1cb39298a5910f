"""indexes for the figures dashboard

Every figure of a period starts from the decisions (or print jobs) of that period: with
(action, created_at, batch_id) the approvals of a year are one index range, and the batch
rows are reached by primary key, instead of a scan of all decisions. The print-job and scan
indexes cover their queries, so labels and scans of a period are read from the index alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 01:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_decision_action_created', 'decision',
                    ['action', 'created_at', 'batch_id'], unique=False)
    op.create_index('ix_print_job_created', 'print_job', ['created_at', 'batch_id', 'quantity'],
                    unique=False)
    op.create_index('ix_scan_figures', 'scan',
                    ['created_at', 'verdict', 'country', 'language', 'batch_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_scan_figures', table_name='scan')
    op.drop_index('ix_print_job_created', table_name='print_job')
    op.drop_index('ix_decision_action_created', table_name='decision')
