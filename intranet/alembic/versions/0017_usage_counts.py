"""usage_counts: each public host's daily lookups per programme, fetched after each delivery

Renumbering: this revision only adds a table; it may follow any other by changing
``down_revision`` (and the file's number) alone.

Revision ID: 0017
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'usage_counts',
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('lookups', sa.BigInteger(), nullable=False),
        sa.Column('found', sa.BigInteger(), nullable=False),
        sa.Column('not_found', sa.BigInteger(), nullable=False),
        sa.Column('limited', sa.BigInteger(), nullable=False),
        sa.Column('fetched_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                                name=op.f('fk_usage_counts_programme_id_programmes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('host', 'programme_id', 'day', name=op.f('pk_usage_counts')),
    )
    op.create_index(op.f('ix_usage_counts_day'), 'usage_counts', ['day'])


def downgrade():
    op.drop_index(op.f('ix_usage_counts_day'), table_name='usage_counts')
    op.drop_table('usage_counts')
