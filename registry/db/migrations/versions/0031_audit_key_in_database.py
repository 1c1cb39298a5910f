"""the audit checkpoint key in the database: one row every app server reads

``audit_key`` holds the registry's Ed25519 audit key: its name (the checkpoints' origin), its
public half and its private half sealed under the key-encryption key (``kek_id`` names which).
The primary key admits only ``id = 1``, so two servers making the key at once keep one. A key
kept in the old folder (``AUDIT_KEY_DIR``) comes in with ``flask --app registry audit key
import-dir``.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 10:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'audit_key',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('private_key', sa.LargeBinary(), nullable=False),
        sa.Column('kek_id', _STR(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('imported_from', _STR(length=500), nullable=True),
        sa.CheckConstraint('id = 1', name='ck_audit_key_one'),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('audit_key')
