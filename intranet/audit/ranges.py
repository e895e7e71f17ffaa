"""The full check of a long chain, split into ranges walked by worker processes.

Hashing is per record and CPU-bound in Python, so ``audit verify`` of millions of records
uses every core: the records from the anchor to the head are cut into ranges, each read
(a server-side cursor of its own) and walked by a worker process (``chain.walk``). A
range's hashes and inner links need nothing from the ranges before it; what a range
cannot know — the hash its first record must link to, and whether the range before it
ended where it began — is checked here, range by range in chain order, so the verdict
and its words are those of the one-process check (the first break in chain order; tests
compare the two on every kind of tampering).

On PostgreSQL every worker reads the snapshot the head was read in (exported with
``pg_export_snapshot``, as ``pg_dump -j`` does): records appended during the check are
neither half-seen nor mistaken for records beyond the head. SQLite has no shared
snapshots: the last range reads the head in its own read transaction, so what it reads
agrees with the head it reports.
"""

import itertools
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine, select

from intranet.audit.chain import (
    COLUMNS,
    ChainVerdict,
    Walked,
    anchor_is_signed,
    broken,
    chain_end,
    missing,
    passed_at_start,
    signed_in_order,
    unsigned_anchor,
    walk,
)
from intranet.audit.models import AuditHead, AuditRecord

# Below two of these the chain is checked in one process: starting workers (a fresh
# interpreter each) costs more than it saves.
MIN_RANGE = 100_000
# Ranges per worker: a few, so a worker that finishes early takes the next one.
RANGES_PER_WORKER = 4
# Rows fetched per round trip from each server-side cursor.
BATCH = 5000


def records_query(after: int, through: int | None):
    """Records after ``after`` (through ``through``) in order, as the check reads them."""
    table = AuditRecord.__table__
    query = select(*(table.c[name] for name in COLUMNS)).where(table.c.seq > after)
    if through is not None:
        query = query.where(table.c.seq <= through)
    return query.order_by(table.c.seq)


def split(base_seq: int, head_seq: int, pieces: int) -> list[tuple[int, int]]:
    """(after, through] bounds of ``pieces`` ranges covering the chain, in order."""
    total = head_seq - base_seq
    pieces = max(1, min(pieces, total))
    cuts = [base_seq + total * i // pieces for i in range(pieces + 1)]
    return list(itertools.pairwise(cuts))


@dataclass(frozen=True)
class Range:
    """One worker's task. The first range reads from record 1 (so records the anchor
    should have removed are found, as the one-process check finds them) and knows the
    hash to link to; the last reads past the head (records appended without moving it)."""

    url: str
    snapshot: str | None
    after: int            # query: seq > after
    through: int | None   # query: seq <= through (None: to the end)
    start: int            # the record the range must begin with
    prev: str | None      # the hash the first record links to (None: checked by the caller)
    pending: tuple        # signed checkpoints inside the range, in count order
    passed: object        # the checkpoint passed before the range (the chain being intact)
    read_head: bool


def verify(url, checkpoints, workers: int, min_range: int = MIN_RANGE) -> ChainVerdict:
    """``services.verify``'s verdict for the chain at ``url``, ranges walked by
    ``workers`` processes."""
    from intranet.db import get_engine

    address = url.render_as_string(hide_password=False)
    engine = get_engine({"sqlalchemy.url": address})
    try:
        with _reader(engine.connect(), None) as (connection, postgres):
            snapshot = connection.exec_driver_sql(
                "SELECT pg_export_snapshot()").scalar_one() if postgres else None
            head = connection.execute(select(AuditHead.seq, AuditHead.hash, AuditHead.base_seq,
                                             AuditHead.base_hash).where(AuditHead.id == 1)).one()
            # The exporting transaction stays open until every worker has read.
            return _check(address, snapshot, head, checkpoints, workers, min_range)
    finally:
        engine.dispose()


def _check(address, snapshot, head, checkpoints, workers, min_range) -> ChainVerdict:
    head_seq, _head_hash, base_seq, base_hash = head
    signed = signed_in_order(checkpoints)
    if checkpoints is not None and not anchor_is_signed(base_seq, base_hash, signed):
        return unsigned_anchor(base_seq)
    pieces = min(workers * RANGES_PER_WORKER, max(1, (head_seq - base_seq) // min_range))
    bounds = split(base_seq, head_seq, pieces)
    tasks = []
    for index, (after, through) in enumerate(bounds):
        first, last = index == 0, index == len(bounds) - 1
        before = [c for c in signed if base_seq < c.count <= after]
        tasks.append(Range(
            address, snapshot, 0 if first else after, None if last else through,
            after + 1, base_hash if first else None,
            tuple(c for c in signed if c.count > after and (last or c.count <= through)),
            before[-1] if before else passed_at_start(signed, base_seq, base_hash), last))
    expected, prev, last_head = base_seq + 1, base_hash, (head_seq, _head_hash)
    with _workers(min(workers, len(tasks))) as pool:
        for task, (walked, read_head) in zip(tasks, pool.map(check_range, tasks), strict=True):
            last_head = read_head or last_head    # the last range's, in its own snapshot
            if walked.error is None and walked.expected_seq == task.start:
                continue                          # nothing in this range
            if expected != task.start:            # the range before ended short of it
                return missing(expected)
            if walked.opened and walked.first_prev != prev:
                return broken(expected - 1, task.start, "does not link to the previous record")
            if walked.error is not None:
                return walked.error               # the ranges not started are cancelled
            expected, prev = walked.expected_seq, walked.prev
    head_seq, head_hash = last_head
    return chain_end(Walked(expected, prev, None), head_seq, head_hash, base_seq, signed,
                     checkpoints is not None)


@contextmanager
def _workers(count: int):
    """Worker processes that are never killed: at the end, ranges not started are cancelled
    and a range under way is walked to its end. Why: ``with Pool`` ends by terminate(), and
    a worker killed while it writes its answer holds the answers' queue lock for good — the
    pool's own thread then waited on it for ever (a test run hung until its 20-minute
    timeout on a chain broken in the first range). Spawned, not forked: the caller may be a
    threaded web or test process."""
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_ENGINES: dict[str, Engine] = {}
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def check_range(task: Range) -> tuple[Walked, tuple[int, str] | None]:
    """In a worker: walk one range; the head too when it is the last range."""
    from intranet.db import get_engine

    engine = _ENGINES.get(task.url)
    if engine is None:
        engine = _ENGINES[task.url] = get_engine({"sqlalchemy.url": task.url})
    with _reader(engine.connect(), task.snapshot) as (connection, _postgres):
        head = None
        if task.read_head:
            row = connection.execute(select(AuditHead.seq, AuditHead.hash)
                                     .where(AuditHead.id == 1)).one()
            head = (row.seq, row.hash)
        with streamed(connection, records_query(task.after, task.through)) as rows:
            return walk(rows, task.start, task.prev, task.pending, task.passed), head


@contextmanager
def streamed(connection, query):
    """The query's rows as plain tuples, streamed. On PostgreSQL straight from psycopg's
    server-side cursor (in the connection's transaction, so in its snapshot), in binary:
    tuples index faster than result rows, and binary times and numbers load faster than
    text (a check of 1M records: 8.5 s against 10.7 s through SQLAlchemy's rows)."""
    if connection.dialect.name != "postgresql":
        result = connection.execution_options(yield_per=BATCH).execute(query)
        try:
            yield result
        finally:
            result.close()
        return
    compiled = query.compile(connection)
    with connection.connection.driver_connection.cursor(name="audit_range",
                                                         binary=True) as cursor:
        cursor.execute(str(compiled), compiled.params)
        # Batch by batch: iterating the cursor itself costs a Python call per row (about
        # a twentieth of the audit screen's time for a day's 1,000 records).
        yield itertools.chain.from_iterable(iter(partial(cursor.fetchmany, BATCH), []))


@contextmanager
def _reader(connection, snapshot):
    """A connection in one read transaction; on PostgreSQL in the exported snapshot.
    Closing it ends the transaction (rolled back: nothing is written)."""
    try:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            if snapshot:
                if not _SNAPSHOT_ID.fullmatch(snapshot):
                    raise ValueError(f"not a snapshot id: {snapshot!r}")
                # The first statement of the transaction, as PostgreSQL requires.
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        else:
            connection.exec_driver_sql("BEGIN")
        yield connection, postgres
    finally:
        connection.close()
