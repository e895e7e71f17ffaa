"""indexes for the audit screen's filters: (actor, seq) and (at, seq)

The screen lists records newest first (ORDER BY seq DESC LIMIT 101). Filtered by user,
(actor, seq) hands them over in that order (the old index on actor alone made PostgreSQL
walk the whole chain backwards testing each record). Filtered by dates, (at, seq) lets
``services.AuditFilter`` find the first and last record numbers of the range from the
index alone, so the walk starts and stops there. Both replace the single-column indexes
they begin with, so each append still updates the same number of indexes.

Built inside the upgrade's transaction (plain CREATE INDEX: one sort each, writes to the
table wait meanwhile, reads do not) with more sort memory, as revision 0011 builds its
index: an upgrade runs with the services stopped, and all-or-nothing matters more than
a concurrent build. docs/performance.md has the time on 10,000,000 records.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# (new index, its columns, the single-column index it replaces, that one's column)
_INDEXES = (('ix_audit_records_actor_seq', ['actor', 'seq'], 'ix_audit_records_actor', 'actor'),
            ('ix_audit_records_at_seq', ['at', 'seq'], 'ix_audit_records_at', 'at'))


def _more_sort_memory():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")


def upgrade():
    _more_sort_memory()
    for name, columns, old, _ in _INDEXES:
        op.create_index(name, 'audit_records', columns)
        op.drop_index(old, table_name='audit_records')


def downgrade():
    _more_sort_memory()
    for name, _, old, column in _INDEXES:
        op.create_index(old, 'audit_records', [column])
        op.drop_index(name, table_name='audit_records')
