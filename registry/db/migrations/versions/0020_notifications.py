"""notifications: the kinds each user switched off, the once-a-day notices (digests, copy
signals) and who asked for a label file

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-03 00:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0020'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'mail_opt_out',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', text(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('user_id', 'kind'),
    )
    op.create_table(
        'mail_once',
        sa.Column('kind', text(length=40), nullable=False),
        sa.Column('scope', text(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'scope', 'day'),
    )
    with op.batch_alter_table('label_file') as batch:
        batch.add_column(sa.Column('requested_by', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_label_file_requested_by_user', 'user', ['requested_by'],
                                 ['id'])


def downgrade() -> None:
    with op.batch_alter_table('label_file') as batch:
        batch.drop_constraint('fk_label_file_requested_by_user', type_='foreignkey')
        batch.drop_column('requested_by')
    op.drop_table('mail_once')
    op.drop_table('mail_opt_out')
