"""scan: the scans that belong to no batch by time, for the administrators' whole desk

The desk's scan lists look back a period (a quarter by default, ``registry.desk.rules``). An
office's, a company's and the administrators' own list find their period's scans through the
desk's indexes (scope, then time), and the copies through ``ix_scan_copies`` (then time);
the administrators' "everything" names no scope, so it read every scan without a batch to
keep its period's. Partial like the desk's: a genuine scan writes no entry. It leads with
batch_id (NULL in every entry): SQLite's planner prefers an index that matches an equality,
and led by the time it lost to ``ix_scan_serial_seen``'s ``batch_id IS NULL``.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04 13:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0036'
down_revision: str | None = '0035'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As registry/verify/models.py writes it (a migration keeps its own copy).
UNBATCHED = sa.text("batch_id IS NULL")


def upgrade() -> None:
    op.create_index('ix_scan_unbatched', 'scan', ['batch_id', 'created_at', 'product_id', 'kind'],
                    sqlite_where=UNBATCHED, postgresql_where=UNBATCHED)


def downgrade() -> None:
    op.drop_index('ix_scan_unbatched', table_name='scan')
