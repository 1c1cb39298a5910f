"""signing keys in the database: one truth for every app server (issue 12 §1)

``signing_key`` holds every label signing key with its status and times; the private half is
AES-256-GCM ciphertext under the key-encryption key (``kek_id`` names which), NULL once
revoked. A partial unique index admits one active key. ``label_signature`` records which key
first signed which print job's labels, so a revocation with an effective time keeps the
labels signed before it valid. Existing keys come in with ``flask --app registry keys
import-dir``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 04:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
ACTIVE = "retired_at IS NULL AND revoked_at IS NULL"


def upgrade() -> None:
    op.create_table(
        'signing_key',
        sa.Column('kid', sa.String(length=11), nullable=False),
        sa.Column('alg', _STR(length=16), nullable=False),
        sa.Column('public_key', _STR(length=64), nullable=False),
        sa.Column('private_key', sa.LargeBinary(), nullable=True),
        sa.Column('kek_id', _STR(length=16), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_from', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revocation_reason', _STR(length=500), nullable=True),
        sa.PrimaryKeyConstraint('kid'),
    )
    op.create_index('uq_signing_key_active', 'signing_key', [sa.text('(1)')], unique=True,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_table(
        'label_signature',
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('kid', sa.String(length=11), nullable=False),
        sa.Column('first_signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['print_job.id']),
        sa.ForeignKeyConstraint(['kid'], ['signing_key.kid']),
        sa.PrimaryKeyConstraint('job_id', 'kid'),
    )
    op.create_index('ix_label_signature_kid', 'label_signature', ['kid'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_label_signature_kid', table_name='label_signature')
    op.drop_table('label_signature')
    op.drop_index('uq_signing_key_active', table_name='signing_key')
    op.drop_table('signing_key')
