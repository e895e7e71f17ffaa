"""when a publication's snapshot was made and until when it holds (its header's times), and
what it said of each application's action details

The application page shows staff what residents are shown (「公開中の表示」), with the
"as of" time the residents' page gives — the snapshot's created_at — and says when the
public page stops answering from it (expires_at). Publications made before this revision
have neither; the page says so instead of guessing.

What residents read is what the last delivered publication's frozen rows said, and those
rows are gone once it is finished: the recorder keeps their action details (不備の種類,
書類送付日, 返送期限: revision 0014) in ``published_statuses`` beside the status and its
dates. Rows recorded before this revision have none (NULL, as a frozen row without action
details); from the next delivery on they hold what was published.

Renumbering: this revision only adds columns; it may follow any other by changing
``down_revision`` (and the file's number) alone.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_ACTION_COLUMNS = ('deficiency_kinds', 'documents_sent_on', 'return_by')


def upgrade():
    # Plain ADD COLUMN, as revision 0010 adds one: deliveries point at publications, and
    # published_statuses gains what 0014 gave publication_rows.
    op.add_column('publications', sa.Column('built_at', sa.DateTime(), nullable=True))
    op.add_column('publications', sa.Column('expires_at', sa.DateTime(), nullable=True))
    op.add_column('published_statuses', sa.Column('deficiency_kinds', sa.BigInteger(),
                                                  nullable=True))
    op.add_column('published_statuses', sa.Column('documents_sent_on', sa.Date(), nullable=True))
    op.add_column('published_statuses', sa.Column('return_by', sa.Date(), nullable=True))


def downgrade():
    for name in reversed(_ACTION_COLUMNS):
        op.execute(f'ALTER TABLE published_statuses DROP COLUMN {name}')
    op.execute('ALTER TABLE publications DROP COLUMN expires_at')
    op.execute('ALTER TABLE publications DROP COLUMN built_at')
