"""Where the audit chain's clock went back: the records dated earlier than the one before.

The writer numbers records in order and dates each with the clock, so the dates rise with
the numbers — unless the clock was set back (an NTP step, a hand-set clock, a restored
virtual machine). ``audit_clock_steps`` holds the number of every record dated earlier than
the record numbered one before it, noted by the database itself in the same statement as
the INSERT (a trigger: every writer, COPY and hand-written INSERT included). While it is
empty the records of any date range are exactly the numbers from its first record to its
last, which the (at, seq) index gives in two look-ups (``steady``; the officer's date
filter, ``intranet.oversight.search``); once it holds anything, the screen bounds a range
the slower way, which holds whatever the clock did.

Only INSERT is watched: the append-only trigger refuses every UPDATE of a record, and a
retention DELETE removes the oldest records, which cannot make rising dates fall. A step
noted for records since pruned stays: the screen only takes the slower way, never a wrong one.
"""

from sqlalchemy import select, text

from intranet.audit.models import AuditClockStep

# Each statement notes the records just added, and the record after each (an INSERT filling
# a gap), dated earlier than the record numbered one before.
_POSTGRES = [
    """CREATE FUNCTION audit_clock_steps_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_clock_steps (seq)
  SELECT a.seq FROM added AS a JOIN audit_records AS p ON p.seq = a.seq - 1 WHERE a.at < p.at
  UNION ALL
  SELECT n.seq FROM added AS a JOIN audit_records AS n ON n.seq = a.seq + 1 WHERE n.at < a.at
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$""",
    # Once per statement (a COPY of millions is one join), as the dashboard's tallies.
    """CREATE TRIGGER audit_clock_steps_note AFTER INSERT ON audit_records
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_clock_steps_note()""",
]
_POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_clock_steps_note ON audit_records",
    "DROP FUNCTION IF EXISTS audit_clock_steps_note()",
]
_SQLITE = [
    """CREATE TRIGGER audit_clock_steps_note AFTER INSERT ON audit_records
BEGIN INSERT OR IGNORE INTO audit_clock_steps (seq)
  SELECT r.seq FROM audit_records AS r JOIN audit_records AS p ON p.seq = r.seq - 1
  WHERE r.seq IN (NEW.seq, NEW.seq + 1) AND r.at < p.at; END""",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_clock_steps_note"]

# Every step already in the chain (a migration's backfill), gaps included: a record is
# compared with the record before it, whatever its number.
BACKFILL = """INSERT INTO audit_clock_steps (seq)
SELECT seq FROM (SELECT seq, at, lag(at) OVER (ORDER BY seq) AS previous
                 FROM audit_records) AS r
WHERE at < previous"""


def create(connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for statement in _POSTGRES if postgres else _SQLITE:
        connection.execute(text(statement))


def drop(connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for statement in _POSTGRES_DROP if postgres else _SQLITE_DROP:
        connection.execute(text(statement))


def steady(dbsession) -> bool:
    """Whether every record is dated no earlier than the one before it."""
    return dbsession.execute(select(AuditClockStep.seq).limit(1)).first() is None
