"""which applications a publication request changes, for the builder

At the request, the frozen rows that differ from the last delivered publication's are kept
beside them as that comparison gives them (``publication_changes``: programme, receipt
number, kind of change, status before and after), and which publication they were compared
with (``publications.changes_since``): the approval counts them without comparing a million
rows again, and the builder, whose last table was made from that publication, hashes only
those applications (intranet.publications.incremental), proving the list whole first. The keys go
with the frozen rows: removed when the publication is finished, erased with its programme.

Renumbering: this revision only adds a table and a column; it may follow any other by
changing ``down_revision`` (and the file's number) alone.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publication_changes',
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('programme_code', sa.String(length=32), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('before', sa.String(length=32), nullable=True),
    sa.Column('after', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_publication_changes_publication_id_publications')),
    sa.PrimaryKeyConstraint('publication_id', 'programme_code', 'receipt', name=op.f('pk_publication_changes'))
    )
    op.add_column('publications', sa.Column('changes_since', sa.Integer(), nullable=True))


def downgrade():
    op.execute('ALTER TABLE publications DROP COLUMN changes_since')
    op.drop_table('publication_changes')
