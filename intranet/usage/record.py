"""Storing the usage counts the pusher fetched: hostile input, checked before anything moves.

The pusher keeps each host's file unread beside its report (``transfer.spool``); here, in the
recorder's transaction, each is read capped and checked by ``transfer.usage_counts.read``.
A file that is refused changes nothing: its host's stored counts stay as they were, and the
refusal — which host, why, in Japanese, never a string from the file — is one audit record
(``transfer.usage_refused``, with the transfers). A file that passes replaces that host's
counts for the days it names; if the database cannot store them, that is recorded the same way
and the rest of the recorder's transaction (the deliveries) stands.
"""

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.exc import SQLAlchemyError

from intranet.audit import writer
from intranet.programmes.models import Programme
from intranet.usage.models import UsageCount
from transfer import spool, usage_counts

log = logging.getLogger(__name__)


def record_fetched(dbsession, actor: writer.Actor, result: dict[str, Any], results: Path) -> None:
    """Every host's fetched file named in the pusher's report ``result``."""
    programmes = dict(dbsession.execute(select(Programme.code, Programme.id)).all())
    today = usage_counts.today_in_japan()
    for line in result.get("usage", []):
        if not line["file"]:
            if line["reason"]:
                log.warning("%s: %s", line["destination"], line["reason"])
            continue
        try:
            data = spool.read_usage(results, line, usage_counts.MAX_SIZE)
            rows = usage_counts.read(data, frozenset(programmes), today)
        except (spool.SpoolRefused, usage_counts.UsageRefused) as refused:
            _refused(dbsession, actor, line["destination"], str(refused))
            continue
        try:
            # A savepoint: the deliveries this transaction records must not be lost because
            # the counts could not be stored (a table or grant an upgrade left wrong).
            with dbsession.begin_nested():
                replace(dbsession, line["destination"], rows, programmes)
        except SQLAlchemyError as error:
            _refused(dbsession, actor, line["destination"],
                     f"利用件数をデータベースに記録できませんでした（{type(error).__name__}）")
            continue
        log.info("%s: usage counts for %s day(s) recorded", line["destination"],
                 len({row.day for row in rows}))


def replace(dbsession, host: str, rows: list[usage_counts.DayCount],
            programmes: dict[str, int]) -> None:
    """The host's counts for these days and programmes, replaced by the newer fetch."""
    if not rows:
        return
    keys = [(programmes[row.programme], row.day) for row in rows]
    dbsession.execute(delete(UsageCount).where(
        UsageCount.host == host,
        tuple_(UsageCount.programme_id, UsageCount.day).in_(keys)))
    now = writer.utcnow()
    dbsession.add_all(UsageCount(host=host, programme_id=programmes[row.programme], day=row.day,
                                 lookups=row.lookups, found=row.found,
                                 not_found=row.not_found, limited=row.limited, fetched_at=now)
                      for row in rows)
    dbsession.flush()


def _refused(dbsession, actor: writer.Actor, host: str, reason: str) -> None:
    reason = f"公開ホストの利用件数ファイルを受け付けませんでした: {reason}"
    log.error("%s: %s", host, reason)
    writer.append(dbsession, actor, "transfer.usage_refused", host[:255], reason=reason[:2000])
