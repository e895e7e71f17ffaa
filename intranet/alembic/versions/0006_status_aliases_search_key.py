"""status aliases; application search key (backfilled), pg_trgm index where available;
saved import layouts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from intranet.applications.search_key import search_key

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The default catalogue's aliases (statuses/defaults.py as of this revision), given to
# installations made before statuses had aliases; a renamed or removed code is left alone.
_ALIASES = {
    "received": "受付\n受付完了", "reviewing": "審査\n確認中", "deficient": "不備\n不備返送",
    "approved": "決定\n支給決定済", "payment_scheduled": "支払予定\n支給予定",
    "paid": "振込完了\n支払済\n支給済", "payment_failed": "振込エラー\n組戻し",
    "withdrawn": "辞退\n取下げ\n取下", "duplicate": "重複", "rejected": "却下\n不支給決定",
}
_BATCH = 5000


def upgrade():
    with op.batch_alter_table('statuses') as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('applications') as batch_op:
        batch_op.add_column(sa.Column('search_key', sa.Text(), server_default='', nullable=False))
    op.create_table(
        'import_layouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('mapping', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                                name=op.f('fk_import_layouts_programme_id_programmes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_layouts')),
        sa.UniqueConstraint('programme_id', 'name',
                            name=op.f('uq_import_layouts_programme_id')),
    )
    bind = op.get_bind()
    statuses = sa.table('statuses', sa.column('code'), sa.column('aliases'))
    for code, aliases in _ALIASES.items():
        bind.execute(statuses.update().where(statuses.c.code == code).values(aliases=aliases))
    _backfill(bind)
    if bind.dialect.name == 'postgresql' and _trigram_available(bind):
        op.execute('CREATE INDEX ix_applications_search_key ON applications '
                   'USING gin (search_key gin_trgm_ops)')


def _backfill(bind):
    table = sa.table('applications', sa.column('id'), sa.column('name'), sa.column('kana'),
                     sa.column('phone'), sa.column('search_key'))
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.name, table.c.kana, table.c.phone)
                            .where(table.c.id > last).order_by(table.c.id).limit(_BATCH)).all()
        if not rows:
            return
        bind.execute(table.update().where(table.c.id == sa.bindparam('_id'))
                     .values(search_key=sa.bindparam('_key')),
                     [{'_id': r.id, '_key': search_key(r.name, r.kana or '', r.phone or '')}
                      for r in rows])
        last = rows[-1].id


def _trigram_available(bind) -> bool:
    """pg_trgm installed, or installable by this role; without it search is a sequential
    scan (docs/performance.md says what that costs)."""
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    if not bind.execute(sa.text(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        return False
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def downgrade():
    op.drop_table('import_layouts')
    op.execute('DROP INDEX IF EXISTS ix_applications_search_key')
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of a table that other
    # tables' foreign keys point at fails on SQLite once it holds rows.
    op.execute('ALTER TABLE applications DROP COLUMN search_key')
    op.execute('ALTER TABLE statuses DROP COLUMN aliases')
