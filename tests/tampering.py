"""What an insider with full control of the database can do, for the tests that show the
audit still notices: switch the append-only trigger off, rewrite, switch it back on."""

from contextlib import contextmanager

from intranet.audit import append_only


@contextmanager
def insider(engine):
    """A connection as the database owner with the audit trigger out of the way."""
    with engine.begin() as connection:
        append_only.drop(connection)
        yield connection
        append_only.create(connection)


def rechain(connection) -> None:
    """Recompute every record's links and hashes and the head: what an insider who knows
    the (public) hashing rule does after editing, inserting or deleting records."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from intranet.audit.chain import record_hash
    from intranet.audit.models import AuditHead, AuditRecord

    session = Session(bind=connection)
    head = session.get(AuditHead, 1)
    previous = head.base_hash
    last = head.base_seq
    for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq)):
        record.prev_hash = previous
        record.hash = record_hash(record)
        previous, last = record.hash, record.seq
    head.seq, head.hash = last, previous
    session.flush()
