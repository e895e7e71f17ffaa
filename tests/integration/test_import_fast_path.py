"""The import's fast way plans and writes exactly what the plain way does, on both engines.

Fast: cells read through values.cell_reader (repeating columns remembered, plain text and
ASCII receipt numbers read directly), new and changed rows' rule verdicts remembered, the
audit's values beside the chain written by the driver, each chunk written
on a background thread while the next is planned (PostgreSQL: ids from the staging table's
default). Plain: parse_cell for every cell, the rules asked for every row, every write
finished before the next chunk is planned. Both run on the same stored state (each in a
transaction rolled back afterwards), in chunks of a few rows so that many chunks cross, and
must give the same applications, history, tallies, import record, audit details, counts and
errors (line, column, value, message) — for CP932 and UTF-8 files. And a failure part-way,
in the file or in the database, leaves nothing written.
"""

import json
import threading
from datetime import date, datetime
from types import SimpleNamespace

import pytest
import transaction
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from intranet.applications.models import Application, StatusChange
from intranet.audit import personal, writer
from intranet.audit.chain import COLUMNS, as_row, record_hash
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.dashboard.models import Tally
from intranet.db import get_tm_session
from intranet.deficiencies.rules import ActionDetails
from intranet.imports import apply as apply_module
from intranet.imports import plan as plan_module
from intranet.imports import sqlite_rows, staging
from intranet.imports.apply import apply_import
from intranet.imports.errors import ImportRefused
from intranet.imports.models import ImportRecord
from intranet.imports.plan import plan_import
from intranet.imports.values import parse_cell
from intranet.programmes.models import Programme
from intranet.statuses.services import load_catalogue
from lab.import_files import HEADER, csv_text, realistic_rows
from tests.conftest import TEST_ACTOR
from tests.factories import make_programme


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(plan_module, "_CHUNK", 4)


def use_plain_way(monkeypatch):
    monkeypatch.setattr(plan_module, "cell_reader",
                        lambda field, statuses, kinds=None: lambda raw: parse_cell(
                            field, raw, statuses, kinds))
    monkeypatch.setattr(plan_module, "_new_status_problem",
                        lambda catalogue, row, verdicts: plan_module._status_problem(
                            catalogue, row, None))
    monkeypatch.setattr(plan_module, "_new_details_problem",
                        lambda catalogue, kinds, row, stated, remembered:
                        plan_module._action_details(catalogue, kinds, row, None,
                                                    ActionDetails(*stated)))
    monkeypatch.setattr(plan_module, "_changed_status_problem",
                        lambda catalogue, row, current, verdicts: plan_module._status_problem(
                            catalogue, row, current))
    monkeypatch.setattr(plan_module, "_changed_details",
                        lambda catalogue, kinds, row, current, stated, remembered:
                        plan_module._action_details(catalogue, kinds, row, current,
                                                    ActionDetails(*stated)))
    monkeypatch.setattr(apply_module, "Background", apply_module.Inline)
    # The audit's side rows through the ORM's bulk insert, the digest as first written.
    monkeypatch.setattr(personal, "insert", lambda dbsession, seq, rows: dbsession.execute(
        insert(AuditPersonal), [{"seq": seq, **row} for row in rows]))
    monkeypatch.setattr(personal, "digest", personal._reference_digest)
    # SQLite: every new and changed application through its per-row tally trigger.
    monkeypatch.setattr(sqlite_rows, "insert_applications", sqlite_rows.APPLICATIONS.insert)
    monkeypatch.setattr(sqlite_rows, "update_applications",
                        lambda dbsession, ids, update: update())
    monkeypatch.setattr(apply_module, "_update_sqlite", _update_by_sqlalchemy)
    # SQLite: the stored applications looked up as SQLAlchemy's select returns them.
    monkeypatch.setattr(sqlite_rows, "looked_up", _looked_up_by_sqlalchemy)


def _looked_up_by_sqlalchemy(dbsession, columns, numbers):
    number = Application.__table__.c.receipt_number_normalised
    return [tuple(row) for start in range(0, len(numbers), 1000)
            for row in dbsession.execute(select(*columns).where(
                number.in_(numbers[start:start + 1000])))]


def _update_by_sqlalchemy(dbsession, groups, now):
    """SQLite's changed applications as SQLAlchemy's executemany writes them."""
    table = Application.__table__
    for names, group in groups.items():
        statement = update(table).where(table.c.id == bindparam("_id")).values(
            {**{apply_module._COLUMN.get(n, n): bindparam(f"_{n}") for n in names},
             "version": table.c.version + 1, "updated_at": now})
        dbsession.execute(statement, [{"_id": row.application_id,
                                       **{f"_{n}": row.values[n] for n in names}}
                                      for row in group])


def row(number, status="受付済", received="令和2年6月1日", phone="042-000-0000", **other):
    cells = dict(zip(HEADER, [number, f"髙橋　太郎{number[-2:]}", "タカハシ　タロウ", "昭和55年1月2日",
                              "中央区1丁目①番", phone, received, "郵送", status, "", "", "", "㈱テスト"],
                     strict=True))
    cells.update(other)
    return [cells[title] for title in HEADER]


# Stored before each run: 20 applications, some already further along.
STORED = [row(f"3000-{n:04d}", status="審査中" if n % 3 else "受付済") for n in range(20)]


def the_file():
    """New rows (printed in several ways), changed rows (status moves, a new phone, a
    payment date), unchanged rows; repeating dates and statuses, a few distinct ones."""
    rows = []
    for n in range(20):
        number = f"3000-{n:04d}"
        if n % 4 == 0:
            rows.append(row(number, status="支給決定"))                       # a move
        elif n % 4 == 1:
            rows.append(row(number, status="審査中" if n % 3 else "受付済",
                            phone=f"03-1111-{n:04d}"))                       # details only
        else:
            rows.append(list(STORED[n]))                                    # unchanged
    for n in range(30):
        number = (f"４０００－{n:04d}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
                  if n % 5 == 0 else f"4000 {n:04d}" if n % 5 == 1
                  else f"ab-40{n:04d}" if n % 5 == 4 else f"4000{n:04d}")
        rows.append(row(number, status=("受付済", "審査中", "received", "不備あり", "照会中")[n % 5],
                        received=("令和2年6月1日", "2020/6/2", "R2.6.3")[n % 3],
                        **({"不備内容": "印鑑なし"} if n % 5 == 3 else {})))
    return rows


def bad_file():
    """The same file with a mistake of every kind, some repeated (remembered cells)."""
    rows = the_file()
    rows[3][6] = "令和2年2月30日"                         # impossible date, in a changed row
    rows[25][6] = "令和2年2月30日"                        # the same cell again, in a new row
    rows[26][0] = "12"                                    # not a receipt number
    rows[27][8] = "完了"                                  # not a status
    rows[28][0] = rows[24][0]                             # the same number twice
    rows[29][8] = "不備あり"                              # a status that needs a reason
    rows[29][11] = ""
    rows[30][3] = "2500/1/1"                              # an implausible date
    rows[31][1] = "=HYPERLINK()"                          # a formula
    rows[5][8] = "振込済"                                 # a move the catalogue refuses
    rows.append(["4000-9999", "短い行"])                  # too few columns
    return rows


def snapshot(dbsession):
    """Everything an import writes, named by receipt number rather than id (PostgreSQL does
    not take back the ids a rolled-back run used)."""
    numbers = {id_: number for id_, number in dbsession.execute(
        select(Application.id, Application.receipt_number_normalised))}
    skip = {"id", "updated_at"}
    applications = sorted(
        tuple(getattr(a, c.key) for c in Application.__table__.columns if c.key not in skip)
        for a in dbsession.execute(select(Application)).scalars())
    history = [(numbers[h.application_id], h.from_code, h.to_code, h.source, h.reason,
                h.user_id, h.scheduled_payment_on, h.paid_on)
               for h in dbsession.execute(select(StatusChange).order_by(StatusChange.id)).scalars()]
    tallies = sorted(dbsession.execute(select(Tally.programme_id, Tally.kind, Tally.bucket,
                                              Tally.n).where(Tally.n != 0)).all())
    records = [(r.filename, r.sha256, r.kind, r.encoding, r.rows, r.created, r.changed,
                r.unchanged) for r in dbsession.execute(select(ImportRecord)).scalars()]
    audit = [(a.action, a.target.split(":")[0], {k: v for k, v in json.loads(a.details).items()
              if k != "personal"})     # the digest of the values beside the chain is salted
             for a in dbsession.execute(select(AuditRecord).where(
                 AuditRecord.action == "import.apply").order_by(AuditRecord.seq)).scalars()]
    return applications, history, tallies, records, audit


def planned(plan):
    return (plan.encoding, plan.kind, dict(plan.counts), plan.status_moves, plan.error_count,
            [(r.line, r.receipt, r.action, list(r.values.items()), r.application_id,
              r.before_status) for r in plan.rows],
            [(e.line, e.column, e.value, e.message, e.mapping) for e in plan.errors],
            {title: dict(seen) for title, seen in plan.dates_read.items()})


def run(session_factory, programme_id, data, apply=True):
    """One import (or dry run) in a transaction rolled back afterwards: (plan, snapshot)."""
    transaction.begin()
    try:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = dbsession.get(Programme, programme_id)
        catalogue = load_catalogue(dbsession)
        if apply:
            plan = apply_import(dbsession, TEST_ACTOR, None, programme, catalogue, data, "f.csv")
        else:
            plan = plan_import(dbsession, catalogue, programme, data, "f.csv")
        return planned(plan), snapshot(dbsession)
    finally:
        transaction.abort()


def dry_runs_agree(session_factory, programme_id, data, monkeypatch):
    """The fast and the plain way's dry runs of ``data``, asserted equal: the errors."""
    fast = run(session_factory, programme_id, data, apply=False)
    with monkeypatch.context() as patched:
        use_plain_way(patched)
        plain = run(session_factory, programme_id, data, apply=False)
    assert fast == plain
    return fast[0][6]


def stored_programme(session_factory, *later):
    """The programme with STORED imported, then each of ``later`` (files as bytes)."""
    programme_id = make_programme(session_factory, kinds=True)
    for data in (csv_text(STORED).encode("cp932"), *later):
        with transaction.manager:
            dbsession = get_tm_session(session_factory, transaction.manager)
            apply_import(dbsession, TEST_ACTOR, None, dbsession.get(Programme, programme_id),
                         load_catalogue(dbsession), data, "stored.csv")
    return programme_id


ACTION_HEADER = ["受付番号", "状況", "不備内容", "不備の種類", "書類送付日", "返送期限"]


def action_file(rows):
    return csv_text(rows, ACTION_HEADER).encode("cp932")


def test_action_details_are_written_alike_both_ways(session_factory, small_chunks, monkeypatch):
    """Kinds by name and code, dates in several forms, blank cells kept between statuses
    that need action and cleared on entering one (PostgreSQL: the staging table's new_round)."""
    numbers = [f"3000-{n:04d}" for n in range(12)]
    earlier = action_file([[number, "不備あり", "前回", "id_copy", "R8.5.1", "2026/5/31"]
                           for number in numbers[:8]])
    back = action_file([[number, "審査中", "", "", "", ""] for number in numbers[:4]])
    programme_id = stored_programme(session_factory, earlier, back)
    rows = []
    for n, number in enumerate(numbers):
        # 4 to 7 are still 不備あり from before: one of them moves on to 再提出待ち.
        status = "再提出待ち" if n in (4, 7) else "不備あり"
        rows.append([number, status, "今回", ("本人確認書類の写しがない、signature", "", "記入漏れ")[n % 3],
                     ("令和8年5月20日", "", "2026-05-20")[n % 3], ("", "2026/6/30", "R8.6.30")[n % 3]])
    data = action_file(rows)
    fast = run(session_factory, programme_id, data)
    with monkeypatch.context() as patched:
        use_plain_way(patched)
        plain = run(session_factory, programme_id, data)
    assert fast == plain
    assert fast[0][4] == 0, fast[0][6]          # no error
    names = [c.key for c in Application.__table__.columns if c.key not in ("id", "updated_at")]
    stored = {a["receipt_number_normalised"]: a for a in (dict(zip(names, row, strict=True))
                                                          for row in fast[1][0])}
    details = {number: (a["status_code"], a["deficiency_kinds"], a["documents_sent_on"],
                        a["return_by"]) for number, a in stored.items()}
    # A new round (0: back from review; 9: first time) starts blank; 4 keeps what it had.
    assert details["30000001"] == ("deficient", 0, None, date(2026, 6, 30))
    assert details["30000009"] == ("deficient", 0b101, date(2026, 5, 20), None)
    assert details["30000004"] == ("awaiting_resubmission", 0b1, date(2026, 5, 1),
                                   date(2026, 6, 30))


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_the_fast_way_writes_what_the_plain_way_writes(session_factory, small_chunks,
                                                        monkeypatch, encoding):
    programme_id = stored_programme(session_factory)
    data = csv_text(the_file()).encode(encoding)
    fast = run(session_factory, programme_id, data)
    with monkeypatch.context() as patched:
        use_plain_way(patched)
        plain = run(session_factory, programme_id, data)
    assert fast == plain
    (_encoding, _kind, counts, moves, errors, *_), (applications, history, tallies, *_) = fast
    assert counts == {"new": 30, "changed": 10, "unchanged": 10} and moves == 5 and not errors
    assert len(applications) == 50 and len(history) == 20 + 5 + 30
    assert tallies


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_the_fast_way_finds_the_errors_the_plain_way_finds(session_factory, small_chunks,
                                                           monkeypatch, encoding):
    programme_id = stored_programme(session_factory)
    data = csv_text(bad_file()).encode(encoding)
    errors = dry_runs_agree(session_factory, programme_id, data, monkeypatch)
    assert [(line, column) for line, column, *_ in errors] == [
        (5, "申請日"), (7, "状況"), (27, "申請日"), (28, "受付番号"), (29, "状況"), (30, "受付番号"),
        (31, "状況"), (32, "生年月日"), (33, "氏名"), (52, "")]
    with pytest.raises(ImportRefused):
        run(session_factory, programme_id, data)


def _counts(session_factory):
    with session_factory() as dbsession:
        return tuple(dbsession.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (Application, StatusChange, ImportRecord, Tally))


def _import(session_factory, programme_id, data):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        apply_import(dbsession, TEST_ACTOR, None, dbsession.get(Programme, programme_id),
                     load_catalogue(dbsession), data, "f.csv")


def test_a_database_failure_in_a_later_chunk_leaves_nothing_written(session_factory,
                                                                   small_chunks, monkeypatch):
    """The third chunk's write fails on the writing thread: the error reaches the caller,
    whose transaction is aborted with the two chunks already written."""
    programme_id = make_programme(session_factory)
    before = _counts(session_factory)
    calls = []
    real = staging.Stage.write if session_factory.kw["bind"].dialect.name == "postgresql" \
        else apply_module._write_sqlite

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args)

    monkeypatch.setattr(staging.Stage, "write", failing)
    monkeypatch.setattr(apply_module, "_write_sqlite", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        _import(session_factory, programme_id, csv_text(the_file()[20:]).encode("cp932"))
    assert len(calls) == 3
    assert _counts(session_factory) == before


def test_a_file_broken_after_chunks_were_written_leaves_nothing_written(session_factory,
                                                                       small_chunks):
    """The CSV breaks (an unclosed quote) after several chunks went to the writing thread:
    the refusal waits for the write under way, and the abort removes every chunk."""
    programme_id = make_programme(session_factory)
    before = _counts(session_factory)
    data = (csv_text(the_file()[20:]) + '4000-8888,"閉じていない\r\n' + "x" * 20_000).encode("cp932")
    with pytest.raises(ImportRefused):
        _import(session_factory, programme_id, data)
    assert _counts(session_factory) == before
    # The connection is whole again: the same file without its broken end goes in.
    _import(session_factory, programme_id, csv_text(the_file()[20:]).encode("cp932"))
    assert _counts(session_factory)[0] == before[0] + 30


def test_an_imported_file_is_stored_as_the_orm_stores_it(session_factory):
    """SQLite's rows go to the driver without SQLAlchemy (imports.sqlite_rows), PostgreSQL's
    through COPY: for a whole realistic file (lab.import_files.realistic_rows: every status
    with its dates, every way a date and a number are written, formula-looking text, line
    breaks, blanks), the stored text of every column of every row and its history — dates
    and timestamps above all — is what the ORM stores for the same values."""
    programme_id = make_programme(session_factory)
    other_id = make_programme(session_factory, code="copy")
    rows = realistic_rows()
    _import(session_factory, programme_id, csv_text(rows).encode("cp932"))
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        imported = dbsession.execute(select(Application).where(
            Application.programme_id == programme_id)).scalars().all()
        assert len(imported) == len(rows)
        for application in imported:
            _store_through_the_orm(dbsession, application, other_id)
    with session_factory() as dbsession:
        bulk, orm = (_stored(dbsession.connection(), programme) for programme in (programme_id,
                                                                                 other_id))
    assert len(bulk[0]) == len(rows) and len(bulk[1]) == len(rows)
    assert bulk == orm


def test_sqlite_looks_stored_applications_up_as_sqlalchemy_reads_them(session_factory,
                                                                       monkeypatch):
    """SQLite's lookup goes to the driver and remembers each column's result processor per
    distinct text (sqlite_rows.looked_up): for a whole realistic file stored (every status
    with its dates, blanks among them), every column of the table read that way is what
    SQLAlchemy's select returns — types and values — in lists of more than one statement, and
    numbers not stored (or another programme's spelling of them) find nothing."""
    if session_factory.kw["bind"].dialect.name != "sqlite":
        pytest.skip("SQLite's lookup; PostgreSQL's is one array parameter")
    monkeypatch.setattr(sqlite_rows, "LOOKUP", 7)
    programme_id = make_programme(session_factory)
    _import(session_factory, programme_id, csv_text(realistic_rows()).encode("cp932"))
    columns = tuple(Application.__table__.columns)
    with session_factory() as dbsession:
        numbers = list(dbsession.execute(select(
            Application.receipt_number_normalised)).scalars())
        asked = [*numbers, "9999-9999", numbers[0].upper() + " ", ""]
        fast = sqlite_rows.looked_up(dbsession, columns, asked)
        plain = _looked_up_by_sqlalchemy(dbsession, columns, asked)
    assert len(fast) == len(numbers) == 240
    assert fast == plain
    assert [[type(v) for v in row] for row in fast] == [[type(v) for v in row] for row in plain]
    assert {type(row[columns.index(Application.__table__.c.received_on)]) for row in fast} == {date}


def _store_through_the_orm(dbsession, imported, programme_id):
    """The same application and its history, written by SQLAlchemy's ORM."""
    copy = Application(programme_id=programme_id, **{
        c.key: getattr(imported, c.key) for c in Application.__table__.columns
        if c.key not in ("id", "programme_id")})
    dbsession.add(copy)
    dbsession.flush()
    history = dbsession.execute(select(StatusChange).where(
        StatusChange.application_id == imported.id)).scalar_one()
    dbsession.add(StatusChange(application_id=copy.id, **{
        c.key: getattr(history, c.key) for c in StatusChange.__table__.columns
        if c.key not in ("id", "application_id")}))
    dbsession.flush()


def _stored(connection, programme_id):
    """(applications, history) of a programme as the database holds them (no ORM types),
    by receipt number, without the ids."""
    found = []
    for query in (
            "SELECT a.* FROM applications a WHERE a.programme_id = {} "
            "ORDER BY a.receipt_number_normalised",
            "SELECT a.receipt_number_normalised, h.* FROM status_changes h JOIN applications a "
            "ON a.id = h.application_id WHERE a.programme_id = {} "
            "ORDER BY a.receipt_number_normalised"):
        result = connection.exec_driver_sql(query.format(int(programme_id)))
        names = list(result.keys())
        # changed_xact (PostgreSQL): the transaction that wrote the row, its own each time.
        found.append([{c: v for c, v in zip(names, row, strict=True)
                       if c not in ("id", "programme_id", "application_id", "changed_xact")}
                      for row in result])
    return found


def test_sqlite_a_failure_while_the_tally_trigger_is_suspended_leaves_it_in_place(
        session_factory, small_chunks, monkeypatch):
    """SQLite inserts a chunk of new applications with its per-row tally trigger dropped
    (imports.sqlite_rows.insert_applications): the insert of the third chunk fails after the
    drop, and the abort brings back the trigger with everything else — the next application
    written by hand is tallied by it."""
    if session_factory.kw["bind"].dialect.name != "sqlite":
        pytest.skip("SQLite's row-level trigger; PostgreSQL's run per statement")
    programme_id = make_programme(session_factory)
    before = _counts(session_factory)
    calls = []
    real = sqlite_rows.APPLICATIONS.insert

    def failing(dbsession, rows):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(dbsession, rows)

    monkeypatch.setattr(sqlite_rows.APPLICATIONS, "insert", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        _import(session_factory, programme_id, csv_text(the_file()[20:]).encode("cp932"))
    assert len(calls) == 3 and _counts(session_factory) == before
    monkeypatch.undo()
    with session_factory() as dbsession:
        triggers = dbsession.execute(select(func.count()).select_from(
            text("sqlite_master")).where(text("type = 'trigger' AND name = "
                                              "'applications_tally_insert'"))).scalar_one()
    assert triggers == 1
    _import(session_factory, programme_id, csv_text(the_file()[20:21]).encode("cp932"))
    with session_factory() as dbsession:
        status = dict(dbsession.execute(select(Tally.bucket, Tally.n).where(
            Tally.programme_id == programme_id, Tally.kind == "status")).all())
    assert sum(status.values()) == 1


BANK_HEADER = ["受付番号", "状況", "振込予定日", "振込日"]


def bank_file(rows):
    return csv_text(rows, BANK_HEADER).encode("cp932")


def audited(dbsession):
    """The last import's audit record as stored (every hashed column and the hash) and the
    values beside them (a bank file creates nothing: the ids are the stored ones)."""
    records = [as_row(r) for r in dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "import.apply").order_by(AuditRecord.seq.desc()).limit(1)).scalars()]
    side = [(s.seq, s.application_id, s.programme_id, s.salt, s.value)
            for s in dbsession.execute(select(AuditPersonal).where(
                AuditPersonal.seq.in_([r[0] for r in records])).order_by(AuditPersonal.id)
            ).scalars()]
    return records, side


def stored_text(dbsession):
    """The applications and their history as the database holds them (dates and times as
    stored text on SQLite), ids of history left out (PostgreSQL does not take them back)."""
    connection = dbsession.connection()
    history = [c.key for c in StatusChange.__table__.columns if c.key != "id"]
    # The model's columns: not PostgreSQL's changed_xact, the transaction that wrote the row.
    columns = ", ".join(c.key for c in Application.__table__.columns)
    return (connection.exec_driver_sql(f"SELECT {columns} FROM applications ORDER BY id").all(),  # noqa: S608
            connection.exec_driver_sql(f"SELECT {', '.join(history)} FROM status_changes "  # noqa: S608
                                       "ORDER BY id").all())


def same_salts_and_time(monkeypatch):
    """Salts counted and the clock stopped, so that two runs can be compared byte for byte."""
    counter = iter(range(10**9))
    monkeypatch.setattr(personal, "_salts", lambda count: (
        f"{next(counter):032x}" for _ in range(count)))
    monkeypatch.setattr(writer, "utcnow", lambda: datetime(2026, 12, 6, 1, 2, 3))



def test_sqlite_imports_with_a_larger_page_cache_and_gives_it_back(session_factory,
                                                                    small_chunks, monkeypatch):
    """Every chunk is written while the connection holds IMPORT_CACHE_KIB of page cache;
    after the import — taken in or refused part-way — the connection (pooled, in the staff
    app) has its own size again."""
    if session_factory.kw["bind"].dialect.name != "sqlite":
        pytest.skip("SQLite's page cache; PostgreSQL's memory is the server's")
    programme_id = make_programme(session_factory)
    sizes, real = [], sqlite_rows.Rows.insert

    def insert(self, dbsession, rows):
        driver = dbsession.connection().connection.driver_connection
        sizes.append(driver.execute("PRAGMA cache_size").fetchone()[0])
        return real(self, dbsession, rows)

    monkeypatch.setattr(sqlite_rows.Rows, "insert", insert)
    broken = (csv_text(the_file()[20:]) + '4000-8888,"閉じていない\r\n' + "x" * 20_000)
    transaction.begin()
    try:
        dbsession = get_tm_session(session_factory, transaction.manager)
        driver = dbsession.connection().connection.driver_connection
        (own,) = driver.execute("PRAGMA cache_size").fetchone()
        assert own != -sqlite_rows.IMPORT_CACHE_KIB
        with pytest.raises(ImportRefused):
            apply_import(dbsession, TEST_ACTOR, None, dbsession.get(Programme, programme_id),
                         load_catalogue(dbsession), broken.encode("cp932"), "f.csv")
        assert sizes and set(sizes) == {-sqlite_rows.IMPORT_CACHE_KIB}
        assert driver.execute("PRAGMA cache_size").fetchone() == (own,)
        sizes.clear()
        apply_import(dbsession, TEST_ACTOR, None, dbsession.get(Programme, programme_id),
                     load_catalogue(dbsession), csv_text(the_file()).encode("cp932"), "f.csv")
        assert sizes and set(sizes) == {-sqlite_rows.IMPORT_CACHE_KIB}
        assert driver.execute("PRAGMA cache_size").fetchone() == (own,)
    finally:
        transaction.abort()

def run_audited(session_factory, programme_id, data, monkeypatch):
    with monkeypatch.context() as patched:
        same_salts_and_time(patched)
        transaction.begin()
        try:
            dbsession = get_tm_session(session_factory, transaction.manager)
            if dbsession.get_bind().dialect.name == "postgresql":
                # The import record's id (the audit record's target) as in the other run:
                # PostgreSQL does not take back the ids a rolled-back run used.
                dbsession.execute(text("SELECT setval(pg_get_serial_sequence('imports', "
                                       "'id'), (SELECT max(id) FROM imports))"))
            plan = apply_import(dbsession, TEST_ACTOR, None, dbsession.get(Programme, programme_id),
                                load_catalogue(dbsession), data, "bank.csv")
            return planned(plan), snapshot(dbsession), audited(dbsession), stored_text(dbsession)
        finally:
            transaction.abort()


def test_a_bank_file_and_its_audit_record_are_written_alike_both_ways(
        session_factory, small_chunks, monkeypatch):
    """A bank file over applications at 振込予定 (changed rows' rules remembered, the audit's
    side rows written by the driver): the same applications, history and tallies, and the
    audit record byte for byte — its details with the digest of the values beside it, its
    hash and link — and those values, in the same order."""
    numbers = [f"3000-{n:04d}" for n in range(20)]
    approved = bank_file([[number, "支給決定", "", ""] for number in numbers])
    scheduled = bank_file([[number, "振込予定", "令和2年7月1日", ""] for number in numbers[:16]])
    programme_id = stored_programme(session_factory, approved, scheduled)
    rows = []
    for n, number in enumerate(numbers):
        if n < 12:
            rows.append([number, "振込済", "", ("令和2年7月10日", "2020/7/10", "R2.7.11")[n % 3]])
        elif n < 14:
            rows.append([number, "振込不能", "", ""])
        elif n < 16:
            rows.append([number, "振込予定", "2020/7/20", ""])      # the date moved, no move
        else:
            rows.append([number, "振込予定", "令和2年7月1日", ""])   # 支給決定 → 振込予定
    data = bank_file(rows)
    fast = run_audited(session_factory, programme_id, data, monkeypatch)
    with monkeypatch.context() as patched:
        use_plain_way(patched)
        plain = run_audited(session_factory, programme_id, data, monkeypatch)
    assert fast == plain
    plan, _, (records, side), _ = fast
    assert plan[2] == {"new": 0, "changed": 20, "unchanged": 0} and plan[3] == 18
    [record] = records
    assert len(side) == 18 + 1 and side[-1][2] is not None   # 18 moves, then the file's name
    # The stored record is hashed and linked as the chain's checker reads it, and its digest
    # is the reference digest over the values stored beside it.
    assert record[-1] == record_hash(SimpleNamespace(**dict(zip(COLUMNS, record, strict=True))))
    assert json.loads(record[8])["personal"] == personal._reference_digest(
        [{"application_id": a, "programme_id": p, "salt": salt, "value": value}
         for _, a, p, salt, value in side])


def test_a_bank_file_refused_finds_the_errors_the_plain_way_finds(session_factory, small_chunks,
                                                                  monkeypatch):
    """Changed rows' remembered verdicts refuse what the rules refuse, with the same
    messages, in the same order: a move the catalogue lacks, a date the status needs, the
    same key again after a refusal, an unknown number."""
    numbers = [f"3000-{n:04d}" for n in range(20)]
    approved = bank_file([[number, "支給決定", "", ""] for number in numbers[:10]])
    scheduled = bank_file([[number, "振込予定", "令和2年7月1日", ""] for number in numbers[:8]])
    programme_id = stored_programme(session_factory, approved, scheduled)
    rows = []
    for n, number in enumerate(numbers):
        rows.append([number, ("振込済", "振込済", "振込不能", "振込予定")[n % 4], "",
                     "令和2年7月10日" if n % 3 else ""])
    rows.append(["9999-0000", "振込済", "", "令和2年7月10日"])
    data = bank_file(rows)
    errors = dry_runs_agree(session_factory, programme_id, data, monkeypatch)
    assert len(errors) > 5 and {e[3] for e in errors} >= {
        "「${to_label}」にするには振込日が必要です。",
        "「${from_label}」から「${to_label}」へは変更できません。", "この受付番号は登録されていません。"}


def test_postgresql_writes_a_chunk_while_the_next_is_compared(session_factory, small_chunks,
                                                            monkeypatch):
    """The order of the database's work (imports.pipeline): on PostgreSQL the next chunk's
    lookups are asked for before the current chunk is written, so the server writes one
    chunk while Python compares the next; on SQLite (and the plain way) every chunk's
    lookups come after the writes before it. Recorded from the tasks themselves."""
    programme_id = stored_programme(session_factory)
    order = []
    real_lookup, real_pg, real_sqlite = (plan_module._existing, staging.Stage.write,
                                         apply_module._write_sqlite)

    def lookup(dbsession, programme, receipts):
        order.append(("lookup", receipts[0]))
        return real_lookup(dbsession, programme, receipts)

    def writer(real):
        def write(*args):
            order.append(("write", None))
            return real(*args)
        return write

    monkeypatch.setattr(plan_module, "_existing", lookup)
    monkeypatch.setattr(staging.Stage, "write", writer(real_pg))
    monkeypatch.setattr(apply_module, "_write_sqlite", writer(real_sqlite))
    fast = run(session_factory, programme_id, csv_text(the_file()).encode("cp932"))
    kinds = [kind for kind, _ in order]
    chunks = kinds.count("lookup")
    assert chunks == 13 and kinds.count("write") == chunks
    if session_factory.kw["bind"].dialect.name == "postgresql":
        assert kinds == ["lookup", "lookup"] + ["write", "lookup"] * (chunks - 2) + ["write"] * 2
    else:
        assert kinds == ["lookup", "write"] * chunks
    order.clear()
    with monkeypatch.context() as patched:
        use_plain_way(patched)
        plain = run(session_factory, programme_id, csv_text(the_file()).encode("cp932"))
    assert [kind for kind, _ in order] == ["lookup", "write"] * chunks
    assert fast == plain


def test_a_number_printed_again_in_the_next_chunk_is_refused_and_nothing_is_written(
        session_factory, small_chunks):
    """What the order above rests on: no chunk looks up a number an earlier chunk wrote.
    The same number printed another way (full-width, spaced) in the next chunk, or five
    chunks later, is a duplicate of the first line, and the file writes nothing."""
    programme_id = make_programme(session_factory)
    before = _counts(session_factory)
    rows = [row(f"5000-{n:04d}") for n in range(24)]
    rows[5] = row("５０００－０００１")          # line 7: chunk 2, first printed on line 3
    rows[22] = row("5000 0002")                 # line 24: chunk 6
    with pytest.raises(ImportRefused):
        _import(session_factory, programme_id, csv_text(rows).encode("cp932"))
    assert _counts(session_factory) == before
    errors = run(session_factory, programme_id, csv_text(rows).encode("cp932"), apply=False)[0][6]
    assert [(line, mapping) for line, _, _, _, mapping in errors] == [
        (7, {"first": 3}), (24, {"first": 4})]


def test_while_the_writing_thread_works_the_planner_never_uses_the_session(
        session_factory, small_chunks, monkeypatch):
    """What makes the order above safe on one connection: once the first lookup went to
    the writing thread, every statement of the plan runs there, none on the caller's
    thread (which compares with the catalogue it loaded before). Recorded per statement."""
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite writes and looks up on the caller's thread (pipeline.Inline)")
    programme_id = stored_programme(session_factory)
    threads, planning = [], []
    real_execute, real_plan = Session.execute, apply_module.plan_import

    def execute(self, *args, **kwargs):
        if planning:
            threads.append(threading.current_thread().name)
        return real_execute(self, *args, **kwargs)

    def plan(*args, **kwargs):
        planning.append(True)
        try:
            return real_plan(*args, **kwargs)
        finally:
            planning.clear()

    monkeypatch.setattr(Session, "execute", execute)
    monkeypatch.setattr(apply_module, "plan_import", plan)
    run(session_factory, programme_id, csv_text(the_file()).encode("cp932"))
    first = next(n for n, name in enumerate(threads) if name.startswith("import-write"))
    assert first > 0 and len(threads) - first >= 13       # the catalogue's before; 13 chunks
    assert all(name.startswith("import-write") for name in threads[first:])


def test_postgresql_looks_numbers_up_by_the_index_before_any_statistics(session_factory):
    """A table filled a moment ago has no statistics (autovacuum has not analysed it); the
    planner then takes each number to match 0.5 % of the rows and would read the whole
    table for a chunk's lookup — at a million rows, 0.2 s a chunk, and an import's growing
    table read once per chunk. The lookup probes the index whatever the statistics say,
    and leaves the planner's settings as they were. Counted by the transaction's own scans
    of the table (pg_stat_xact_user_tables)."""
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite's planner takes an indexed IN list by the index")
    programme_id = make_programme(session_factory)
    scans = text("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables "
                 "WHERE relname = 'applications'")
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        dbsession.execute(text(
            "INSERT INTO applications (programme_id, receipt_number, receipt_number_normalised,"
            " name, kana, address, phone, route, received_on, status_code, deficiency_reason,"
            " notes, updated_at, version, search_key) SELECT :p, n::text, n::text, 'x', '', '',"
            " '', 'postal', '2020-06-01', 'received', '', '', now(), 1, '' "
            "FROM generate_series(1, 20000) AS n"), {"p": programme_id})
        analysed = dbsession.execute(text(
            "SELECT count(*) FROM pg_stats WHERE tablename = 'applications'")).scalar_one()
        assert analysed == 0
        programme = dbsession.get(Programme, programme_id)
        seq_before, index_before = dbsession.execute(scans).one()
        mine, elsewhere = plan_module._existing(
            dbsession, programme, [str(n) for n in range(1, 4001, 2)] + ["none"])
        seq_after, index_after = dbsession.execute(scans).one()
        assert len(mine) == 2000 and not elsewhere
        assert mine["1"]["status"] == "received"
        assert seq_after == seq_before and index_after > index_before
        assert dbsession.execute(text("SHOW enable_seqscan")).scalar_one() == "on"
        assert dbsession.execute(text("SHOW enable_bitmapscan")).scalar_one() == "on"
        transaction.abort()
