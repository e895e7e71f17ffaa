"""The full check split into ranges walked by worker processes (``intranet.audit.ranges``)
gives the verdict of the one-process check — same record, same words — for every kind
of tampering, wherever it falls against the ranges' boundaries. On SQLite and PostgreSQL.

The chain here is 20 records with signed checkpoints at records 5 and 12; ``min_range=1``
splits it into 8 ranges of two or three records, so every rewrite below lands on, beside
or across a boundary.
"""

import multiprocessing
from datetime import timedelta

import pytest
import transaction
from sqlalchemy import text
from sqlalchemy.orm import Session

from intranet.audit import ranges, services, writer
from intranet.audit.chain import record_hash
from intranet.audit.models import AuditRecord
from intranet.db import get_tm_session
from tests.conftest import TEST_ACTOR
from tests.integration import test_audit_integrity as integrity
from tests.tampering import insider, rechain
from transfer.checkpoints import read_file

signing_key, witness = integrity.signing_key, integrity.witness

HEAD = 20
BOUNDS = ranges.split(0, HEAD, 8)       # (after, through] of each range
FIRSTS = [after + 1 for after, _ in BOUNDS[1:]]     # first records of ranges 2..8
LASTS = [through for _, through in BOUNDS[:-1]]     # last records of ranges 1..7


@pytest.fixture
def chain(session_factory, witness):
    with session_factory() as dbsession:  # what setting up the database wrote
        written = services.verify(dbsession).count
    witness(5 - written)                  # records 1-5, checkpoint of 5, its note: 6
    witness(6)                            # 7-12, checkpoint of 12, note: 13
    return witness(7, checkpoint=False)   # 14-20


def both(session_factory, signing_key, path, signed=True):
    """(one-process verdict, split verdict)."""
    checkpoints = read_file(path, [signing_key.public_key]) if signed else None
    with session_factory() as dbsession:
        serial = services.verify(dbsession, checkpoints)
        split = services.verify(dbsession, checkpoints, workers=2, min_range=1)
    return serial, split


def edit(conn, seq):
    conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = :s"),
                 {"s": seq})


def relink(conn, seq):
    """Point a record at another previous hash and rehash it: only its link breaks."""
    session = Session(bind=conn)
    record = session.get(AuditRecord, seq)
    record.prev_hash = "f" * 64
    record.hash = record_hash(record)
    session.flush()


def swap(conn, a, b):
    conn.execute(text("UPDATE audit_records SET seq = -1 WHERE seq = :a"), {"a": a})
    conn.execute(text("UPDATE audit_records SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    conn.execute(text("UPDATE audit_records SET seq = :b WHERE seq = -1"), {"b": b})


def delete(conn, *seqs):
    for seq in seqs:
        conn.execute(text("DELETE FROM audit_records WHERE seq = :s"), {"s": seq})


def insert_forged(conn, seq):
    conn.execute(text("UPDATE audit_records SET seq = seq + 1000 WHERE seq >= :s"), {"s": seq})
    conn.execute(text("UPDATE audit_records SET seq = seq - 999 WHERE seq >= 1000"))
    conn.execute(text(
        "INSERT INTO audit_records (seq, at, actor, actor_role, os_user, host, action, "
        "target, details, prev_hash, hash) SELECT :s, at, 'supervisor', 'supervisor', '', "
        "'', 'publication.approve', 'publication:9', '{}', '', '' FROM audit_records "
        "WHERE seq = :p"), {"s": seq, "p": seq - 1})


def append(conn, seq, at=None, move_head=False):
    """A well-formed record after ``seq - 1`` (links and hash right)."""
    session = Session(bind=conn)
    before = session.get(AuditRecord, seq - 1)
    record = AuditRecord(seq=seq, at=at or before.at + timedelta(seconds=1), actor="supervisor",
                         actor_role="supervisor", os_user="", host="", action="publication.approve",
                         target="publication:9", details="{}", prev_hash=before.hash)
    record.hash = record_hash(record)
    session.add(record)
    session.flush()
    if move_head:
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h"),
                     {"s": seq, "h": record.hash})


REWRITES = {
    "edit, first record": lambda c: edit(c, 1),
    "edit, last record": lambda c: edit(c, HEAD),
    "edit, first record of a range": lambda c: edit(c, FIRSTS[2]),
    "edit, last record of a range": lambda c: edit(c, LASTS[2]),
    "edit in two ranges (the earlier is named)": lambda c: (edit(c, FIRSTS[4] + 1),
                                                            edit(c, FIRSTS[1] + 1)),
    "link broken exactly at a boundary": lambda c: relink(c, FIRSTS[3]),
    "link broken inside a range": lambda c: relink(c, FIRSTS[3] + 1),
    "delete, first record": lambda c: delete(c, 1),
    "delete, first record of a range": lambda c: delete(c, FIRSTS[1]),
    "delete, last record of a range": lambda c: delete(c, LASTS[1]),
    "delete a whole range": lambda c: delete(c, *range(BOUNDS[3][0] + 1, BOUNDS[3][1] + 1)),
    "delete the tail, head left": lambda c: delete(c, *range(FIRSTS[-1], HEAD + 1)),
    "delete the tail and recompute": lambda c: (delete(c, *range(FIRSTS[3], HEAD + 1)),
                                                rechain(c)),
    "reorder across a boundary": lambda c: swap(c, LASTS[3], FIRSTS[3]),
    "reorder inside a range": lambda c: swap(c, FIRSTS[0], FIRSTS[0] + 1),
    "insert a forged record": lambda c: insert_forged(c, FIRSTS[2]),
    "insert a forged record and recompute": lambda c: (insert_forged(c, 3), rechain(c)),
    "edit and recompute": lambda c: (edit(c, 2), rechain(c)),
    "append a record, head left": lambda c: append(c, HEAD + 1),
    "append a back-dated record and move the head": lambda c: append(
        c, HEAD + 1, at=writer.utcnow() - timedelta(days=1), move_head=True),
    "fake retention anchor": lambda c: (delete(c, *range(1, 5)), c.execute(text(
        "UPDATE audit_head SET base_seq = 4, base_hash = "
        "(SELECT prev_hash FROM audit_records WHERE seq = 5)"))),
}


def test_an_intact_chain_gives_the_same_verdict(session_factory, signing_key, chain):
    for signed in (True, False):
        serial, split = both(session_factory, signing_key, chain, signed)
        assert serial.ok and serial.count == HEAD
        assert split == serial


@pytest.mark.parametrize("rewrite", sorted(REWRITES))
def test_every_rewrite_gets_the_one_process_verdict(engine, session_factory, signing_key, chain,
                                                    rewrite):
    with insider(engine) as conn:
        REWRITES[rewrite](conn)
    serial, split = both(session_factory, signing_key, chain)
    assert not serial.ok, serial
    assert split == serial
    if rewrite in ("edit, first record of a range", "link broken exactly at a boundary"):
        assert split.broken_seq in FIRSTS


def test_a_break_found_early_lets_every_worker_end_by_itself(engine, session_factory,
                                                             signing_key, chain, monkeypatch):
    """The check stops at the first range's break, with the other ranges still to walk: the
    workers are never killed (a worker killed while it wrote its answer held the pool's
    queue lock for good, and the check waited on it until the test run's 20-minute
    timeout). Each ends by itself and none is left behind; the verdict is the one
    process's."""
    killed = []
    real = multiprocessing.process.BaseProcess.terminate

    def recorded(process):
        killed.append(process.pid)
        real(process)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "terminate", recorded)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "kill", recorded)
    with insider(engine) as conn:
        edit(conn, 2)                     # in the first of the eight ranges
    serial, split = both(session_factory, signing_key, chain)
    assert not serial.ok and split == serial and split.broken_seq == 2
    assert killed == []
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("rewrite", ["edit, last record of a range",
                                     "reorder across a boundary", "delete a whole range",
                                     "append a record, head left"])
def test_without_signed_checkpoints_too(engine, session_factory, signing_key, chain, rewrite):
    with insider(engine) as conn:
        REWRITES[rewrite](conn)
    serial, split = both(session_factory, signing_key, chain, signed=False)
    assert not serial.ok
    assert split == serial


def test_a_chain_shorter_than_the_split(session_factory, witness, signing_key):
    path = witness(2)                       # fewer records than the 8 ranges asked for
    serial, split = both(session_factory, signing_key, path)
    assert serial.ok and serial.count < 8 and split == serial
    assert len(ranges.split(0, serial.count, 8)) == serial.count   # a record per range


def test_records_written_during_the_check_are_not_mistaken_for_tampering(
        engine, session_factory, chain, signing_key, monkeypatch):
    """Staff keep working while a long check runs: records appended after the head was
    read must not read as records beyond the head (PostgreSQL: every range reads the
    head's snapshot; SQLite: the last range reads the head with its records)."""
    checkpoints = read_file(chain, [signing_key.public_key])
    with session_factory() as dbsession:
        before = services.verify(dbsession, checkpoints)
    original = ranges._check

    def append_then_check(*args):         # the head has been read by now
        with transaction.manager:
            writer.append(get_tm_session(session_factory, transaction.manager), TEST_ACTOR,
                          "test.action", "during")
        return original(*args)

    monkeypatch.setattr(ranges, "_check", append_then_check)
    with session_factory() as dbsession:
        verdict = services.verify(dbsession, checkpoints, workers=2, min_range=1)
    assert verdict.ok, verdict
    snapshot = engine.dialect.name == "postgresql"
    assert verdict.count == before.count + (0 if snapshot else 1)
