"""deliveries: re-deliveries of the same publication, and the pusher's report they came from

A public host that missed a publication receives the same signed file on a later run
(intranet.publications.catchup); each such delivery is a row of its own with ``redelivery``
set. ``report`` is the pusher's report id: the recorder reads a report at the end of its run
and again at the start of the next, and records it once.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of a table other tables point at).
    op.add_column('deliveries', sa.Column('redelivery', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
    op.add_column('deliveries', sa.Column('report', sa.String(length=32), server_default='',
                                          nullable=False))
    op.create_index('ix_deliveries_report', 'deliveries', ['report'])


def downgrade():
    op.drop_index('ix_deliveries_report', table_name='deliveries')
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL).
    op.execute('ALTER TABLE deliveries DROP COLUMN report')
    op.execute('ALTER TABLE deliveries DROP COLUMN redelivery')
