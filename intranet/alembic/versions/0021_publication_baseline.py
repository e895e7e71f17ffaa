"""the last delivered publication keeps its frozen rows; published_statuses goes

What residents read is now remembered as the last delivered publication's own frozen rows
(``intranet.publications.changes``): the preview, the request and the approval compare
with them. ``published_statuses`` — the same facts keyed by application, rewritten whole
after every delivery — is no longer read or written. A site upgraded with a publication
already delivered has no kept rows for it; its screens say so until the next delivery.

Revision ID: 0021
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('published_statuses')


def downgrade():
    # The older version rebuilds what it needs at its next delivery.
    op.create_table('published_statuses',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.String(length=32), nullable=False),
    sa.Column('scheduled_payment_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_published_statuses_application_id_applications')),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_published_statuses'))
    )
