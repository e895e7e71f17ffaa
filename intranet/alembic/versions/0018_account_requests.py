"""account requests: a new account and a password reset wait for a second person too

``role_grants`` held only role changes; it now also holds new accounts (``kind`` create)
and password resets (``kind`` reset), with the hash of the first half of the one-time
password shown to the one who asked. Existing rows are role changes.

Renumbering: this revision only adds; it may follow any other by changing
``down_revision`` (and the file's number) alone.

Revision ID: 0018
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of a table other tables point at).
    op.add_column('role_grants', sa.Column('kind', sa.String(length=16), server_default='role',
                                           nullable=False))
    op.add_column('role_grants', sa.Column('first_half_hash', sa.String(length=255),
                                           nullable=True))


def downgrade():
    # The older schema knows only role changes: a new account or reset would read as one.
    op.execute("DELETE FROM role_grants WHERE kind <> 'role'")
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL).
    op.execute('ALTER TABLE role_grants DROP COLUMN first_half_hash')
    op.execute('ALTER TABLE role_grants DROP COLUMN kind')
