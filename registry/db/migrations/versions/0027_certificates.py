"""certificates as facts: a document's number, issuer, dates, origin form and organic scheme;
the administrators' rules of required certificates (with the defaults: phytosanitary for farm
produce, fishery health for fishery); the expiry alerts sent (issue 18 §2)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString

# The defaults the issue names; administrators change them on /admin/certificate-rules.
DEFAULT_RULES = [("agriculture", "phytosanitary"), ("fishery", "fishery_health")]


def upgrade() -> None:
    op.add_column('document', sa.Column('number', text(length=64), nullable=True))
    op.add_column('document', sa.Column('issuer', text(length=200), nullable=True))
    op.add_column('document', sa.Column('issued_on', sa.Date(), nullable=True))
    op.add_column('document', sa.Column('expires_on', sa.Date(), nullable=True))
    op.add_column('document', sa.Column('form_type', text(length=16), nullable=True))
    op.add_column('document', sa.Column('scheme', text(length=16), nullable=True))
    op.create_index('ix_document_expires_on', 'document', ['expires_on'])
    rules = op.create_table(
        'certificate_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category', text(length=32), nullable=False),
        sa.Column('destination_country', text(length=2), nullable=False),
        sa.Column('kind', text(length=32), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('category', 'destination_country', 'kind',
                            name='uq_certificate_rule'),
    )
    op.create_table(
        'certificate_alert',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id']),
        sa.PrimaryKeyConstraint('document_id', 'days'),
    )
    now = sa.func.current_timestamp()
    for category, kind in DEFAULT_RULES:
        op.execute(rules.insert().values(category=category, destination_country="", kind=kind,
                                         created_by=None, created_at=now))


def downgrade() -> None:
    op.drop_table('certificate_alert')
    op.drop_table('certificate_rule')
    op.drop_index('ix_document_expires_on', table_name='document')
    for column in ('scheme', 'form_type', 'expires_on', 'issued_on', 'issuer', 'number'):
        with op.batch_alter_table('document') as batch:
            batch.drop_column(column)
