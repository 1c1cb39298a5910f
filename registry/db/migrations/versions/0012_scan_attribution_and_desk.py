"""scan attribution and the suspicious-activity desk (issue 11 §5, §6)

Scans and buyers' reports of codes that belong to no batch are attributed to the product's
exporter and the origin province's office (product, organisation, province, kind); a scan
records where its country came from (a trusted header, or the language's region); a report
can be marked handled with a note.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 23:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def _attribution() -> list[sa.Column]:
    return [
        sa.Column('product_id', sa.Integer(), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('province_code', _STR(length=2), nullable=True),
        sa.Column('kind', _STR(length=16), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country_source', _STR(length=8), nullable=True))
        for column in _attribution():
            batch_op.add_column(column)
        batch_op.create_foreign_key('fk_scan_product_id', 'product', ['product_id'], ['id'])
        batch_op.create_foreign_key('fk_scan_organisation_id', 'organisation',
                                    ['organisation_id'], ['id'])
        batch_op.create_index('ix_scan_desk_province', ['province_code', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_scan_desk_organisation', ['organisation_id', 'created_at'],
                              unique=False)
    # The figures read scans from this index alone: it gains the new columns they ask for.
    op.drop_index('ix_scan_figures', table_name='scan')
    op.create_index('ix_scan_figures', 'scan',
                    ['created_at', 'verdict', 'country', 'country_source', 'language',
                     'batch_id', 'province_code', 'organisation_id'], unique=False)
    # Rows written before this revision cannot say where their country came from: call it
    # the language's region, never a known location.
    op.execute("UPDATE scan SET country_source = 'language' WHERE country IS NOT NULL")

    with op.batch_alter_table('fake_report', schema=None) as batch_op:
        for column in _attribution():
            batch_op.add_column(column)
        batch_op.add_column(sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('handled_note', _STR(length=2000), nullable=True))
        batch_op.create_foreign_key('fk_fake_report_product_id', 'product', ['product_id'],
                                    ['id'])
        batch_op.create_foreign_key('fk_fake_report_organisation_id', 'organisation',
                                    ['organisation_id'], ['id'])
        batch_op.create_foreign_key('fk_fake_report_handled_by_id', 'user', ['handled_by_id'],
                                    ['id'])
        batch_op.create_index('ix_fake_report_desk_province', ['province_code', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_fake_report_desk_organisation',
                              ['organisation_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_scan_figures', table_name='scan')
    op.create_index('ix_scan_figures', 'scan',
                    ['created_at', 'verdict', 'country', 'language', 'batch_id'], unique=False)
    with op.batch_alter_table('fake_report', schema=None) as batch_op:
        batch_op.drop_index('ix_fake_report_desk_organisation')
        batch_op.drop_index('ix_fake_report_desk_province')
        batch_op.drop_constraint('fk_fake_report_handled_by_id', type_='foreignkey')
        batch_op.drop_constraint('fk_fake_report_organisation_id', type_='foreignkey')
        batch_op.drop_constraint('fk_fake_report_product_id', type_='foreignkey')
        for name in ('handled_note', 'handled_by_id', 'handled_at', 'kind', 'province_code',
                     'organisation_id', 'product_id'):
            batch_op.drop_column(name)
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_desk_organisation')
        batch_op.drop_index('ix_scan_desk_province')
        batch_op.drop_constraint('fk_scan_organisation_id', type_='foreignkey')
        batch_op.drop_constraint('fk_scan_product_id', type_='foreignkey')
        for name in ('kind', 'province_code', 'organisation_id', 'product_id',
                     'country_source'):
            batch_op.drop_column(name)
