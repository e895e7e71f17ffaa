"""status: the resident must act (the public page makes it stand out)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The default catalogue's statuses after which a resident has to do something.
_ACTION = ("deficient", "awaiting_resubmission", "payment_failed")


def upgrade():
    # Plain ADD COLUMN: a batch copy of statuses, which applications point at, fails on SQLite
    # once applications exist.
    op.add_column('statuses', sa.Column('needs_resident_action', sa.Boolean(),
                                        server_default=sa.false(), nullable=False))
    statuses = sa.table('statuses', sa.column('code', sa.String),
                        sa.column('needs_resident_action', sa.Boolean))
    op.execute(statuses.update().where(statuses.c.code.in_(_ACTION))
               .values(needs_resident_action=True))


def downgrade():
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of a table that other
    # tables' foreign keys point at fails on SQLite once it holds rows.
    op.execute('ALTER TABLE statuses DROP COLUMN needs_resident_action')
