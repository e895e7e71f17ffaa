"""audit retention anchor

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), server_default='0000000000000000000000000000000000000000000000000000000000000000', nullable=False))



def downgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('base_hash')
        batch_op.drop_column('base_seq')

