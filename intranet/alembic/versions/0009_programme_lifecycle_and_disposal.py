"""programme lifecycle (closing, archive, disposal), disposal records, audit personal values

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_personal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_personal'))
    )
    with op.batch_alter_table('audit_personal', schema=None) as batch_op:
        batch_op.create_index('ix_audit_personal_application', ['application_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_personal_seq'), ['seq'], unique=False)

    op.create_table('disposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('retention_ends_on', sa.Date(), nullable=True),
    sa.Column('override', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('applications', sa.Integer(), nullable=False),
    sa.Column('history_entries', sa.Integer(), nullable=False),
    sa.Column('audit_values', sa.Integer(), nullable=False),
    sa.Column('publication_rows', sa.Integer(), nullable=False),
    sa.Column('spool_files', sa.Integer(), nullable=False),
    sa.Column('erased_fields', sa.Text(), nullable=False),
    sa.Column('statistics', sa.Text(), nullable=False),
    sa.Column('backups_age_out_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_disposals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_disposals_programme_id_programmes')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_disposals_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposals'))
    )
    with op.batch_alter_table('disposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposals_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disposals_state'), ['state'], unique=False)

    # Plain ADD COLUMN: a batch copy of programmes, which applications point at, fails on
    # SQLite once applications exist.
    op.add_column('programmes', sa.Column('contact', sa.String(length=400), server_default='', nullable=False))
    op.add_column('programmes', sa.Column('retention_years', sa.Integer(), server_default='5', nullable=False))
    op.add_column('programmes', sa.Column('lookup_closed_at', sa.DateTime(), nullable=True))
    op.add_column('programmes', sa.Column('archived_at', sa.DateTime(), nullable=True))
    op.add_column('programmes', sa.Column('disposed_at', sa.DateTime(), nullable=True))



def downgrade():
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of a table that other
    # tables' foreign keys point at fails on SQLite once it holds rows.
    for column in ('disposed_at', 'archived_at', 'lookup_closed_at', 'retention_years', 'contact'):
        op.execute(f'ALTER TABLE programmes DROP COLUMN {column}')

    with op.batch_alter_table('disposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposals_state'))
        batch_op.drop_index(batch_op.f('ix_disposals_programme_id'))

    op.drop_table('disposals')
    with op.batch_alter_table('audit_personal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_personal_seq'))
        batch_op.drop_index('ix_audit_personal_application')

    op.drop_table('audit_personal')
