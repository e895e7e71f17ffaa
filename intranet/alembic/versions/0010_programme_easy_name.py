"""programme name in やさしい日本語 (with furigana markup)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch copy of programmes, which applications point at, fails on
    # SQLite once applications exist.
    op.add_column('programmes', sa.Column('name_easy', sa.String(length=400), server_default='',
                                          nullable=False))


def downgrade():
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL), for the same reason.
    op.execute('ALTER TABLE programmes DROP COLUMN name_easy')
