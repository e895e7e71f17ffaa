"""the records where the audit chain's clock went back, noted by a trigger

While none are noted, the audit screen bounds a date range by two look-ups in the (at, seq)
index instead of reading every entry of the range (``intranet.audit.clock``). The backfill
compares every record with the one before it: one pass over the chain (docs/performance.md
has its time on 10,000,000 records). Backfill and trigger in one transaction: no record
can fall between them.

Renumbering: this revision only adds a table and a trigger; it may follow any other by
changing ``down_revision`` (and the file's number) alone.

Revision ID: 0025
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

from intranet.audit import clock

revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_clock_steps',
                    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
                    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_clock_steps')))
    connection = op.get_bind()
    connection.execute(sa.text(clock.BACKFILL))
    clock.create(connection)


def downgrade():
    clock.drop(op.get_bind())
    op.drop_table('audit_clock_steps')
