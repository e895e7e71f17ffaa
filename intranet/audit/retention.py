"""Retention: records older than ``audit.retention_days`` leave the database for an archive
file, and the chain stays checkable.

The archive is JSON lines, one record each with its hashes, so it can be checked on its
own. The cut is made only at a signed checkpoint signed before the retention's cutoff, which
becomes the chain's anchor (in the head row): ``audit verify`` then accepts an anchor only
if it is such a checkpoint and the chain's last ``audit.prune`` record names exactly it, so
nobody can delete records behind an anchor they made up, nor records the retention still
keeps (``intranet.audit.truncation``). The ``audit.prune`` record also names the archive's
SHA-256. The DELETE itself passes the
append-only trigger only through a permit written in this transaction (the pruner role's
path; see intranet.audit.append_only).
"""

import hashlib
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from intranet.audit import writer
from intranet.audit.models import AuditHead, AuditPrunePermit, AuditRecord
from transfer.checkpoints import format_time


def prune(dbsession, actor, retention_days: int, archive: Path, signed) -> int:
    """Archive and remove records older than the retention, up to the last signed
    checkpoint among them (``signed``: verified checkpoints); return how many."""
    cutoff = writer.utcnow() - timedelta(days=retention_days)
    head = dbsession.execute(select(AuditHead).where(AuditHead.id == 1)
                             .with_for_update()).scalar_one()
    old = dbsession.execute(select(AuditRecord).where(AuditRecord.at < cutoff)
                            .order_by(AuditRecord.seq)).scalars().all()
    # Only an unbroken run from the start of the chain can be cut off.
    expected, kept = head.base_seq + 1, []
    for record in old:
        if record.seq != expected:
            break
        kept.append(record)
        expected += 1
    # The anchor's signed time must be past the retention too: `audit verify` trusts a
    # pruned start only for that reason (intranet.audit.truncation), and records 1..N are
    # all at least as old as the checkpoint that signed N.
    anchors = {(c.count, c.head_hash): c for c in signed if c.at < cutoff}
    while kept and (kept[-1].seq, kept[-1].hash) not in anchors:
        kept.pop()
    if not kept:
        return 0
    lines = "".join(json.dumps(_as_dict(r), ensure_ascii=False, sort_keys=True) + "\n"
                    for r in kept)
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_text(lines, encoding="utf-8")
    last = kept[-1]
    permit = AuditPrunePermit(through_seq=last.seq)
    dbsession.add(permit)
    dbsession.flush()
    dbsession.execute(delete(AuditRecord).where(AuditRecord.seq <= last.seq))
    dbsession.delete(permit)
    head.base_seq, head.base_hash = last.seq, last.hash
    dbsession.flush()
    writer.append(dbsession, actor, "audit.prune", f"audit:1-{last.seq}",
                  records=len(kept), through_seq=last.seq, anchor_hash=last.hash,
                  anchor_at=format_time(anchors[last.seq, last.hash].at),
                  archive=archive.name,
                  archive_sha256=hashlib.sha256(lines.encode("utf-8")).hexdigest())
    return len(kept)


def _as_dict(record):
    return {"seq": record.seq, "at": format_time(record.at), "actor": record.actor,
            "actor_role": record.actor_role, "os_user": record.os_user, "host": record.host,
            "action": record.action, "target": record.target, "details": record.details,
            "prev_hash": record.prev_hash, "hash": record.hash}
