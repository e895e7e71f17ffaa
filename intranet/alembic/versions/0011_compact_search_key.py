"""search key rewritten in the compact form whose trigrams narrow; birth date index

Every stored key is recomputed by search_key() (applications/search_key.py): phone digits
as digits, other characters as short letter tokens instead of ``x`` + five hex digits.
Set-based: on PostgreSQL the keys are computed in chunks and written by one UPDATE … FROM
unnest() per chunk, with the trigram index dropped meanwhile and built once afterwards (an
index updated row by row costs far more than one build; docs/performance.md has the times);
on SQLite one UPDATE through a function registered on the connection.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from intranet.applications.search_key import fold, phone_digits, search_key

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_CHUNK = 50_000
_TRIGRAM_INDEX = 'ix_applications_search_key'


def upgrade():
    _rewrite(op.get_bind(), search_key)
    # Staff narrow a common name by 生年月日 (search.Criteria.birth_date).
    op.create_index('ix_applications_birth_date', 'applications', ['birth_date'])


def downgrade():
    op.drop_index('ix_applications_birth_date', table_name='applications')
    _rewrite(op.get_bind(), _previous_key)


class _PreviousCodes(dict):
    def __missing__(self, code):
        self[code] = value = f"x{code:05x}"
        return value


_PREVIOUS = _PreviousCodes()


def _previous_key(name, kana, phone):
    """The key as revisions 0006–0010 wrote it: ``x`` + five hex digits per character,
    the fields joined by ``y``."""
    return "y".join((fold(name).translate(_PREVIOUS), fold(kana).translate(_PREVIOUS),
                     phone_digits(phone).translate(_PREVIOUS)))


def _rewrite(bind, key):
    """Recompute every stored key with ``key``. An empty key — an erased application
    (disposal/erase.py) — stays empty."""
    if bind.dialect.name == 'postgresql':
        _rewrite_postgresql(bind, key)
    else:
        _rewrite_sqlite(bind, key)


def _rewrite_sqlite(bind, key):
    bind.connection.driver_connection.create_function(
        'shinsei_search_key', 3, lambda name, kana, phone: key(name or '', kana or '', phone or ''),
        deterministic=True)
    bind.execute(sa.text("UPDATE applications SET search_key = shinsei_search_key(name, kana, "
                         "phone) WHERE search_key <> ''"))


def _rewrite_postgresql(bind, key):
    index = bind.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                         {'name': _TRIGRAM_INDEX}).scalar()
    if index:
        bind.execute(sa.text(f'DROP INDEX {_TRIGRAM_INDEX}'))
    read = sa.text("SELECT id, name, kana, phone FROM applications WHERE id > :last "
                   "AND search_key <> '' ORDER BY id LIMIT :chunk")
    write = sa.text("UPDATE applications AS a SET search_key = k.search_key "
                    "FROM unnest(CAST(:ids AS bigint[]), CAST(:keys AS text[])) "
                    "AS k (id, search_key) WHERE a.id = k.id")
    last = 0
    while rows := bind.execute(read, {'last': last, 'chunk': _CHUNK}).all():
        bind.execute(write, {'ids': [r.id for r in rows],
                             'keys': [key(r.name or '', r.kana or '', r.phone or '')
                                      for r in rows]})
        last = rows[-1].id
    if index:
        # One build over the new keys (as revision 0006 made it); memory makes it faster.
        bind.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
        bind.execute(sa.text(index))
