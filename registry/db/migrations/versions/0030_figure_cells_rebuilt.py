"""figure cells rebuilt: per company (0026) and with the hub passages (kind hp, 0028's
shipments), by the code of `flask figures rebuild`

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 08:45:00
"""
from collections.abc import Sequence

from alembic import op
from sqlmodel import Session


revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In the upgrade's transaction, from every table the cells are made of. The rebuild is
    # today's code: it belongs to the latest revision that changes what the cells hold (a
    # later one that does must rebuild again, and this one then finds its tables made).
    from registry.figures import summary

    summary.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    # The hub cells stay; the code of the earlier revisions reads none of kind 'hp'.
    pass
