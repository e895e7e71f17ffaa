"""audit_personal: values beside the chain may be linked to a programme

An export's typed filter (a birth date, a name) and an import's file name concern a
programme's applicants, not one application: such side rows carry ``programme_id`` and no
``application_id``, and disposal of the programme cuts them.

Renumbering: this revision only adds a column and relaxes one; it may follow any other by
changing ``down_revision`` (and the file's number) alone.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # No table points at audit_personal: SQLite's batch copy is safe.
    with op.batch_alter_table('audit_personal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.alter_column('application_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_personal_programme_id'), ['programme_id'],
                              unique=False)


def downgrade():
    # The older schema cannot hold a programme's values: they go, as disposal would cut them.
    op.execute('DELETE FROM audit_personal WHERE application_id IS NULL')
    with op.batch_alter_table('audit_personal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_personal_programme_id'))
        batch_op.alter_column('application_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('programme_id')
