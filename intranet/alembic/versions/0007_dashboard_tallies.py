"""dashboard tallies kept exact by triggers, backfilled

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from intranet.dashboard import tallies

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dashboard_tallies',
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('bucket', sa.String(length=32), nullable=False),
                    sa.Column('n', sa.BigInteger(), nullable=False),
                    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                                            name=op.f('fk_dashboard_tallies_programme_id_programmes')),
                    sa.PrimaryKeyConstraint('programme_id', 'kind', 'bucket',
                                            name=op.f('pk_dashboard_tallies')))
    connection = op.get_bind()
    # Backfill and triggers in one transaction: no change can fall between them.
    connection.execute(sa.text(tallies.backfill_sql(connection.dialect.name)))
    tallies.create(connection)


def downgrade():
    tallies.drop(op.get_bind())
    op.drop_table('dashboard_tallies')
