"""decided_on_japan_days: the dashboard counts a decision on its Japan day

The tallies counted a decision (a status change to 支給決定) on the UTC date of its
``changed_at``: one made before 09:00 in Japan landed on the previous day. The triggers now
count it on its Japan day (intranet.days); this revision puts the new triggers in and counts
every tally again from the tables — triggers dropped, tallies emptied and counted, triggers
created, in one transaction, so no change can fall between them.

Downgrade keeps the Japan days: the rule is the code's, and the old count was the defect.

Renumbering: this revision only replaces triggers and recounts; it may follow any other by
changing ``down_revision`` (and the file's number) alone.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

from intranet.dashboard import tallies

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    tallies.drop(connection)
    connection.execute(sa.text("DELETE FROM dashboard_tallies"))
    connection.execute(sa.text(tallies.backfill_sql(connection.dialect.name)))
    tallies.create(connection)


def downgrade():
    pass
