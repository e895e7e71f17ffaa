"""publication_frozen_mark: the preview compares only the applications written since

Each application row keeps the transaction that last wrote it (PostgreSQL:
``applications.changed_xact``, its default on insert and a trigger on update), and each
publication what its freeze saw (``publications.frozen_mark``): the publications screen
keeps its preview (``preview_entries``, and ``preview_marks``: what they hold) and compares
only the applications written since (intranet.publications.since). Existing rows keep NULL
(older than any mark); existing publications an empty mark (compared whole, as before).

Renumbering: this revision only adds columns, tables, an index and triggers; it may follow
any other by changing ``down_revision`` (and the file's number) alone.

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
    op.create_table('preview_entries',
                    sa.Column('programme_code', sa.String(length=32), nullable=False),
                    sa.Column('receipt', sa.String(length=64), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('before', sa.String(length=32), nullable=True),
                    sa.Column('after', sa.String(length=32), nullable=True),
                    sa.PrimaryKeyConstraint('programme_code', 'receipt',
                                            name=op.f('pk_preview_entries')))
    marks = op.create_table('preview_marks',
                            sa.Column('id', sa.Integer(), nullable=False),
                            sa.Column('baseline_id', sa.Integer(), nullable=True),
                            sa.Column('mark', sa.Text(), server_default='', nullable=False),
                            sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_marks')))
    # The one row, made here: two first views must not race to insert it.
    op.bulk_insert(marks, [{'id': 1, 'baseline_id': None, 'mark': ''}])
    since.create(op.get_bind())


def downgrade():
    since.drop(op.get_bind())
    op.drop_table('preview_marks')
    op.drop_table('preview_entries')
    op.execute('ALTER TABLE publications DROP COLUMN frozen_mark')
