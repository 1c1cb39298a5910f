"""batch.verify_facts: a label's display facts (latest decisions with office and WITA day,
public documents, confirmed shipments, plots on record) kept on its batch row, so a scan reads
one row instead of four correlated subqueries (registry/verify/facts.py)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03 17:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0033'
down_revision: str | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('batch', sa.Column('verify_facts', sa.Text(), nullable=True))
    # Filled from the source tables in the upgrade's transaction, by today's definition of the
    # facts (a later revision that changes it must fill them again).
    from registry.verify import facts

    facts.refresh_all(op.get_bind())


def downgrade() -> None:
    # SQLite's own ALTER TABLE … DROP COLUMN: a batch-mode copy of the table would have to
    # drop "batch", which the rows of every table that refers to it forbid.
    op.drop_column('batch', 'verify_facts')
