"""account gaps (issue 16 §6): declined sign-ups free their e-mail address; API tokens expire;
the audit log is looked up by object

- ``user.email`` stays unique among accounts that are not declined (a partial unique index,
  same name): a company whose sign-up a trade office declined can sign up again with the same
  address once it fixed what was wrong. The declined account keeps its row and its address (the
  audit trail names it) and can never sign in.
- ``api_token.expires_at`` (NOT NULL): tokens that exist when this runs expire 90 days after the
  upgrade, the default lifetime of a new token, so no token lives for ever and nobody's
  integration stops on the day of the upgrade.
- ``ix_audit_event_object`` (object_type, object_id): the web audit log's filter by object and
  the officers' province scope join on it. Creating an index is no UPDATE or DELETE, so the
  append-only trigger of 0013 does not mind.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 00:10:00
"""
import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status <> 'declined'")
EXISTING_TOKEN_LIFETIME = dt.timedelta(days=90)


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_index('ix_user_email', table_name='user')
    op.create_index('ix_user_email', 'user', ['email'], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + EXISTING_TOKEN_LIFETIME
    if bind.dialect.name == "sqlite":  # SQLite keeps UTC wall-clock text (registry.db.types)
        expires = expires.replace(tzinfo=None)
    bind.execute(sa.text("UPDATE api_token SET expires_at = :expires WHERE expires_at IS NULL")
                 .bindparams(sa.bindparam("expires", type_=sa.DateTime(timezone=True))),
                 {"expires": expires})
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)

    op.create_index('ix_audit_event_object', 'audit_event', ['object_type', 'object_id'])


def downgrade() -> None:
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    # Fails while a declined account and a live one share an address, as it must: the old
    # index cannot hold both.
    op.drop_index('ix_user_email', table_name='user')
    op.create_index('ix_user_email', 'user', ['email'], unique=True)
