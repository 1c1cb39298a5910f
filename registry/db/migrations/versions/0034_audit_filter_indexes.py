"""audit_event: indexes for the web log's filters by action, by person and by time window
(registry/audit/listing.py). The action's and the person's end in seq, so a page of either
walks it newest first and stops; a time window's seqs are read from (created_at, seq) alone.
At 3 M events each of these filters walked the whole trail.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 04:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_event_action_seq', 'audit_event', ['action', 'seq'])
    op.drop_index('ix_audit_event_action', table_name='audit_event')
    op.create_index('ix_audit_event_actor_label_seq', 'audit_event', ['actor_label', 'seq'])
    op.create_index('ix_audit_event_created_seq', 'audit_event', ['created_at', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_audit_event_created_seq', table_name='audit_event')
    op.drop_index('ix_audit_event_actor_label_seq', table_name='audit_event')
    op.create_index('ix_audit_event_action', 'audit_event', ['action'])
    op.drop_index('ix_audit_event_action_seq', table_name='audit_event')
