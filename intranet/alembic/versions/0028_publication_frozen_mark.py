"""publication_frozen_mark: the preview compares only the applications written since

Each application row keeps the transaction that last wrote it (PostgreSQL:
``applications.changed_xact``, its default on insert and a trigger on update), and each
publication what its freeze saw (``publications.frozen_mark``): the publications screen
compares only the applications written since the delivered publication was frozen
(intranet.publications.since). Existing rows keep NULL (older than any mark); existing
publications an empty mark (compared whole, as before).

Renumbering: this revision only adds columns, an index and a trigger; it may follow any
other by changing ``down_revision`` (and the file's number) alone.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

from intranet.publications import since

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('publications', sa.Column('frozen_mark', sa.Text(), server_default='',
                                            nullable=False))
    since.create(op.get_bind())


def downgrade():
    since.drop(op.get_bind())
    op.execute('ALTER TABLE publications DROP COLUMN frozen_mark')
