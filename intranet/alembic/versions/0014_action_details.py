"""action details: 不備の種類 per programme, an application's kinds, 書類送付日 and 返送期限,
a programme's 返送先 and 同封するもの, and the frozen rows' copy of them

Every existing programme gets the shipped default kinds (intranet.deficiencies.defaults, as
shipped with this release), so staff can choose them from the first day.

Renumbering: this revision only adds; it may follow any other by changing
``down_revision`` (and the file's number) alone.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from intranet.deficiencies.defaults import DEFAULT_KINDS

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_PROGRAMME_TEXTS = (('return_to', 400), ('return_to_en', 400), ('return_to_easy', 800),
                    ('enclose', 400), ('enclose_en', 400), ('enclose_easy', 800))
_ACTION_COLUMNS = ('deficiency_kinds', 'documents_sent_on', 'return_by')


def upgrade():
    kinds = op.create_table(
        'deficiency_kinds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('bit', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                                name=op.f('fk_deficiency_kinds_programme_id_programmes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deficiency_kinds')),
        sa.UniqueConstraint('programme_id', 'bit', name='uq_deficiency_kinds_bit'),
        sa.UniqueConstraint('programme_id', 'code', name='uq_deficiency_kinds_code'))
    op.create_index(op.f('ix_deficiency_kinds_programme_id'), 'deficiency_kinds',
                    ['programme_id'], unique=False)
    wordings = op.create_table(
        'deficiency_kind_wordings',
        sa.Column('kind_id', sa.Integer(), nullable=False),
        sa.Column('lang', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['kind_id'], ['deficiency_kinds.id'],
                                name=op.f('fk_deficiency_kind_wordings_kind_id_deficiency_kinds')),
        sa.PrimaryKeyConstraint('kind_id', 'lang', name=op.f('pk_deficiency_kind_wordings')))
    # Plain ADD COLUMN everywhere: a batch copy of a table other tables point at fails on
    # SQLite once it holds rows; on PostgreSQL a constant default adds no rewrite.
    for name, length in _PROGRAMME_TEXTS:
        op.add_column('programmes', sa.Column(name, sa.String(length=length), server_default='',
                                              nullable=False))
    op.add_column('applications', sa.Column('deficiency_kinds', sa.BigInteger(),
                                            server_default='0', nullable=False))
    # A frozen row has them only for a status that asks the resident to act: NULL otherwise.
    op.add_column('publication_rows', sa.Column('deficiency_kinds', sa.BigInteger(),
                                                nullable=True))
    for table in ('applications', 'publication_rows'):
        op.add_column(table, sa.Column('documents_sent_on', sa.Date(), nullable=True))
        op.add_column(table, sa.Column('return_by', sa.Date(), nullable=True))
    _default_kinds(kinds, wordings)


def _default_kinds(kinds, wordings):
    bind = op.get_bind()
    programmes = bind.execute(sa.text('SELECT id FROM programmes ORDER BY id')).scalars().all()
    for programme_id in programmes:
        for bit, (code, name, wording) in enumerate(DEFAULT_KINDS):
            kind_id = bind.execute(kinds.insert().values(
                programme_id=programme_id, code=code, bit=bit, name=name,
                sort_order=(bit + 1) * 10, retired=False).returning(kinds.c.id)).scalar_one()
            bind.execute(wordings.insert(), [{'kind_id': kind_id, 'lang': lang, 'text': text}
                                             for lang, text in wording.items()])


def downgrade():
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL), for the same reason.
    for table in ('publication_rows', 'applications'):
        for name in _ACTION_COLUMNS:
            op.execute(f'ALTER TABLE {table} DROP COLUMN {name}')
    for name, _ in _PROGRAMME_TEXTS:
        op.execute(f'ALTER TABLE programmes DROP COLUMN {name}')
    op.drop_table('deficiency_kind_wordings')
    op.drop_index(op.f('ix_deficiency_kinds_programme_id'), table_name='deficiency_kinds')
    op.drop_table('deficiency_kinds')
