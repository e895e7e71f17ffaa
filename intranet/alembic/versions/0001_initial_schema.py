"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    audit_head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('audit_records',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('os_user', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_records'))
    )
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_records_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_records_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_records_at'), ['at'], unique=False)

    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('needs_birth_date', sa.Boolean(), nullable=False),
    sa.Column('lookup_opens_on', sa.Date(), nullable=True),
    sa.Column('lookup_closes_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes')),
    sa.UniqueConstraint('code', name=op.f('uq_programmes_code'))
    )
    op.create_table('statuses',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('staff_label', sa.String(length=64), nullable=False),
    sa.Column('staff_label_en', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_final', sa.Boolean(), nullable=False),
    sa.Column('needs_scheduled_payment_date', sa.Boolean(), nullable=False),
    sa.Column('needs_paid_date', sa.Boolean(), nullable=False),
    sa.Column('needs_deficiency_reason', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_statuses'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('security_stamp', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('receipt_number', sa.String(length=64), nullable=False),
    sa.Column('receipt_number_normalised', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kana', sa.String(length=200), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('status_code', sa.String(length=32), nullable=False),
    sa.Column('scheduled_payment_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('deficiency_reason', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_applications_programme_id_programmes')),
    sa.ForeignKeyConstraint(['status_code'], ['statuses.code'], name=op.f('fk_applications_status_code_statuses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('programme_id', 'receipt_number_normalised', name=op.f('uq_applications_programme_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_receipt', ['receipt_number_normalised', 'id'], unique=False)
        batch_op.create_index('ix_applications_received', ['received_on', 'id'], unique=False)
        batch_op.create_index('ix_applications_status', ['status_code', 'id'], unique=False)
        batch_op.create_index('ix_applications_updated', ['updated_at', 'id'], unique=False)

    op.create_table('status_transitions',
    sa.Column('from_code', sa.String(length=32), nullable=False),
    sa.Column('to_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['from_code'], ['statuses.code'], name=op.f('fk_status_transitions_from_code_statuses')),
    sa.ForeignKeyConstraint(['to_code'], ['statuses.code'], name=op.f('fk_status_transitions_to_code_statuses')),
    sa.PrimaryKeyConstraint('from_code', 'to_code', name=op.f('pk_status_transitions'))
    )
    op.create_table('status_wordings',
    sa.Column('status_code', sa.String(length=32), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=False),
    sa.Column('resident_label', sa.String(length=128), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('next_step', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['status_code'], ['statuses.code'], name=op.f('fk_status_wordings_status_code_statuses')),
    sa.PrimaryKeyConstraint('status_code', 'lang', name=op.f('pk_status_wordings'))
    )
    op.create_table('status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('from_code', sa.String(length=32), nullable=True),
    sa.Column('to_code', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('scheduled_payment_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_status_changes_application_id_applications')),
    sa.ForeignKeyConstraint(['from_code'], ['statuses.code'], name=op.f('fk_status_changes_from_code_statuses')),
    sa.ForeignKeyConstraint(['to_code'], ['statuses.code'], name=op.f('fk_status_changes_to_code_statuses')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_status_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_changes'))
    )
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_status_changes_application', ['application_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_changes_changed_at'), ['changed_at'], unique=False)
    # The chain starts empty; the head row exists from the start so writers can lock it.
    op.bulk_insert(audit_head, [{'id': 1, 'seq': 0, 'hash': '0' * 64}])


def downgrade():
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_changes_changed_at'))
        batch_op.drop_index('ix_status_changes_application')

    op.drop_table('status_changes')
    op.drop_table('status_wordings')
    op.drop_table('status_transitions')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_updated')
        batch_op.drop_index('ix_applications_status')
        batch_op.drop_index('ix_applications_received')
        batch_op.drop_index('ix_applications_receipt')

    op.drop_table('applications')
    op.drop_table('users')
    op.drop_table('statuses')
    op.drop_table('programmes')
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_records_at'))
        batch_op.drop_index(batch_op.f('ix_audit_records_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_records_action'))

    op.drop_table('audit_records')
    op.drop_table('audit_head')
