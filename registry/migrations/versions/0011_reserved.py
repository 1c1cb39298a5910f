"""reserved slot 0011 (filled by the integrity work of issue 11; a no-op until then)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:50:00
"""
from collections.abc import Sequence

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
