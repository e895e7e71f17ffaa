"""when a publication's snapshot was made and until when it holds (its header's times)

The application page shows staff what residents are shown (「公開中の表示」), with the
"as of" time the residents' page gives — the snapshot's created_at — and says when the
public page stops answering from it (expires_at). Publications made before this revision
have neither; the page says so instead of guessing. What the snapshot said of each
application is the last delivered publication's kept frozen rows (revision 0021).

Renumbering: this revision only adds columns; it may follow any other by changing
``down_revision`` (and the file's number) alone.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, as revision 0010 adds one: deliveries point at publications.
    op.add_column('publications', sa.Column('built_at', sa.DateTime(), nullable=True))
    op.add_column('publications', sa.Column('expires_at', sa.DateTime(), nullable=True))


def downgrade():
    op.execute('ALTER TABLE publications DROP COLUMN expires_at')
    op.execute('ALTER TABLE publications DROP COLUMN built_at')
