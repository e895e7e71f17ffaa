"""server-side sessions, login throttle, one-time passwords, supervisor grants,
append-only audit records (trigger) and the prune permit, frozen publication content

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from intranet.audit import append_only

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_user_sessions'))
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    op.create_table('login_throttle',
    sa.Column('name_hash', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name_hash', 'address', name=op.f('pk_login_throttle'))
    )
    op.create_table('role_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_role_grants_decided_by_users')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_role_grants_requested_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_role_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants'))
    )
    op.create_index(op.f('ix_role_grants_user_id'), 'role_grants', ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('password_expires_at', sa.DateTime(), nullable=True))
        # Lock-out per account is gone: throttling is per (name, address) in login_throttle.
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
    op.create_table('audit_prune_permits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('through_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_prune_permits'))
    )
    append_only.create(op.get_bind())
    op.create_table('publication_rows',
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('programme_code', sa.String(length=32), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('status_code', sa.String(length=32), nullable=False),
    sa.Column('scheduled_payment_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_publication_rows_publication_id_publications')),
    sa.PrimaryKeyConstraint('publication_id', 'programme_code', 'receipt', name=op.f('pk_publication_rows'))
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frozen_header', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('content_rows', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('content_digest', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('approved_digest', sa.String(length=64), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('approved_digest')
        batch_op.drop_column('content_digest')
        batch_op.drop_column('content_rows')
        batch_op.drop_column('frozen_header')
    op.drop_table('publication_rows')
    append_only.drop(op.get_bind())
    op.drop_table('audit_prune_permits')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.drop_column('password_expires_at')
        batch_op.drop_column('must_change_password')
    op.drop_index(op.f('ix_role_grants_user_id'), table_name='role_grants')
    op.drop_table('role_grants')
    op.drop_table('login_throttle')
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
