"""publications

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('entries', sa.Integer(), nullable=True),
    sa.Column('signing_key_ids', sa.String(length=255), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_publications_approved_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_publications_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publications'))
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publications_state'), ['state'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('destination', sa.String(length=255), nullable=False),
    sa.Column('delivered', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('host_key_fingerprint', sa.String(length=80), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_deliveries_publication_id_publications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_destination'), ['destination'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_publication_id'), ['publication_id'], unique=False)

    op.create_table('published_statuses',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.String(length=32), nullable=False),
    sa.Column('scheduled_payment_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_published_statuses_application_id_applications')),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_published_statuses'))
    )


def downgrade():
    op.drop_table('published_statuses')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_publication_id'))
        batch_op.drop_index(batch_op.f('ix_deliveries_destination'))
        batch_op.drop_index(batch_op.f('ix_deliveries_at'))

    op.drop_table('deliveries')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publications_state'))

    op.drop_table('publications')
