"""audit_view_days: the call centre's record openings per Japan day, kept by triggers

The dashboard's relief figure read every ``application.view`` record of 31 days from the
audit trail on each view; it reads these 31 rows now (``intranet.usage.openings``). The
backfill counts the openings already in the trail (one pass over that action's records;
docs/performance.md has its time at ten million records). Backfill and triggers in one
transaction: no record can fall between them.

Renumbering: this revision only adds a table and triggers; it may follow any other by
changing ``down_revision`` (and the file's number) alone.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

from intranet.usage import openings

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_view_days',
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('n', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('day', name=op.f('pk_audit_view_days')))
    connection = op.get_bind()
    connection.execute(sa.text(openings.backfill_sql(connection.dialect.name)))
    openings.create(connection)


def downgrade():
    openings.drop(op.get_bind())
    op.drop_table('audit_view_days')
