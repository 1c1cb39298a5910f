"""password reset requests: "forgot password" written in the request's transaction and
turned into a mail by the queue task or the minute sweep (never lost to a queue outage);
fake reports told to their exporter in a summary at most once a batch a day

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 10:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0032'
down_revision: str | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'password_reset_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', text(length=254), nullable=False),
        sa.Column('locale', text(length=8), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.add_column('fake_report',
                  sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_fake_report_notified_at', 'fake_report', ['notified_at'])
    # Reports before this revision were mailed one by one when they came: not again.
    op.execute("UPDATE fake_report SET notified_at = created_at")


def downgrade() -> None:
    op.drop_index('ix_fake_report_notified_at', table_name='fake_report')
    op.drop_column('fake_report', 'notified_at')
    op.drop_table('password_reset_request')
