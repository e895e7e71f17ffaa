"""Truncation in every form: a chain cut at its start, at its end, or with its witnesses.

The hash chain alone cannot tell a shorter chain from a cut one. Three checks, made before
the records are walked (``services.verify``), close what the signed checkpoints left open:

1. **A chain that does not start at record 1 was pruned, at a time retention allowed.**
   The head row's anchor (``base_seq``/``base_hash``) must be named exactly by the chain's
   last ``audit.prune`` record, must be a signed checkpoint, and that checkpoint's signed
   time must lie at least ``audit.retention_days`` before now.

   Why this is the signature that counts: the only key an insider with the database and the
   checkpoint file lacks is the transfer signing key, held by the signer — a process with
   no database and no network (deploy/systemd/shinsei-transfer-sign.service). The pruner
   (its own OS user and database role) cannot hold that key, and a key of its own would be
   one more secret on the same host. The signer's signature over the anchor already says
   "records 1..N existed at time T"; every one of them is at least as old as T. So an
   anchor whose signed T is past the retention can only remove records the retention
   removes anyway, and an anchor younger than that is refused whatever the ``audit.prune``
   record says — an insider can write such a record (the chain's hash has no key), but
   cannot make a young checkpoint old. The verifier's trust: the transfer public keys
   (``audit.checkpoint_keys``), its own clock and ``audit.retention_days``, all in
   root-owned settings. What remains: an insider can delete expired records that the
   monthly prune has not yet archived, without an archive (docs/security-review.md).

2. **Every signed checkpoint the chain notes is still in the checkpoint file.** The signer
   appends each checkpoint to its file before the recorder notes it in the chain
   (``audit.checkpoint`` records), so a note whose checkpoint the file lacks means the
   file was emptied or cut (or the note forged): an error, never "0 signed checkpoints".

3. **Checkpoints a public host witnessed** (``shinsei-mirror status --checkpoints``, saved
   to a file): each must also be in the local file, and the chain is held against them
   like any signed checkpoint — a public host keeps the copy an insider on the intranet
   cannot reach.

Every reason here is Japanese and names the record or checkpoint (the CLI prints it).
"""

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from intranet.audit.chain import ChainVerdict, broken, passed_at_start
from intranet.audit.models import AuditRecord
from transfer.checkpoints import Checkpoint, format_time

PRUNE_ACTION = "audit.prune"
CHECKPOINT_ACTION = "audit.checkpoint"


def identity(checkpoint: Checkpoint) -> tuple:
    """What makes two copies of a checkpoint the same signed statement."""
    return (checkpoint.count, checkpoint.head_hash, checkpoint.at, checkpoint.signature)


def check_start(dbsession, base_seq: int, base_hash: str, signed, retention_days: int | None,
                now: datetime) -> ChainVerdict | None:
    """Check 1 above; None when the chain starts at record 1 or the start holds."""
    if not base_seq:
        return None
    prune = dbsession.execute(
        select(AuditRecord.seq, AuditRecord.details)
        .where(AuditRecord.action == PRUNE_ACTION, AuditRecord.seq > base_seq)
        .order_by(AuditRecord.seq.desc()).limit(1)).one_or_none()
    if prune is None:
        return broken(0, base_seq + 1,
                      f"記録 1〜{base_seq} 番がありませんが、削除を記録した audit.prune の記録が"
                      "ありません。保存期間による削除ではなく、記録が削られています")
    named, before_change = _prune_details(prune.details)
    if named != (base_seq, base_hash):
        return broken(0, base_seq + 1,
                      f"記録 {base_seq + 1} 番から始まっていますが、最後の削除の記録（記録 "
                      f"{prune.seq} 番）は記録 {named[0]} 番（ハッシュ {named[1][:16]}…）までの"
                      "削除です。記録が削られたか、起点が書き換えられています")
    if signed is None or retention_days is None:
        return None      # no signed checkpoints configured: the CLI warns
    anchor = passed_at_start(signed, base_seq, base_hash)
    if anchor is None:
        return broken(0, base_seq + 1,
                      f"削除の起点（記録 {base_seq} 番）が署名付きチェックポイントに"
                      "ありません。起点の裏で記録が削られた可能性があります")
    grace = OLD_PRUNE_GRACE if before_change else timedelta(0)
    if anchor.at > now - timedelta(days=retention_days) + grace:
        return broken(0, base_seq + 1,
                      f"削除の起点（記録 {base_seq} 番、署名付きチェックポイント "
                      f"{format_time(anchor.at)}）は保存期間 {retention_days} 日を過ぎていません。"
                      "保存期間内の記録が削除されています")
    return None


# Installations pruned before this check: their pruner chose the anchor by its records'
# times, so the checkpoint that signed it may be dated up to one checkpoint interval (the
# daily timer) after the cutoff. Their prune records lack ``anchor_at``; for them the
# start may be this much younger. A forged record of the old form gains the insider two
# days on a five-year retention.
OLD_PRUNE_GRACE = timedelta(days=2)


def _prune_details(details: str) -> tuple[tuple[int, str], bool]:
    """((the anchor a prune record names), written before ``anchor_at`` was recorded?)"""
    try:
        value = json.loads(details)
        return (int(value["through_seq"]), str(value["anchor_hash"])), "anchor_at" not in value
    except (ValueError, KeyError, TypeError):
        return (-1, ""), False


def check_noted(dbsession, base_seq: int, signed, where: str) -> ChainVerdict | None:
    """Check 2 above (``where``: the checkpoint file, for the message)."""
    if signed is None:
        return None
    kept = {identity(c) for c in signed}
    notes = dbsession.execute(
        select(AuditRecord.seq, AuditRecord.details)
        .where(AuditRecord.action == CHECKPOINT_ACTION, AuditRecord.seq > base_seq)
        .order_by(AuditRecord.seq)).all()
    for seq, details in notes:
        try:
            noted = Checkpoint.from_dict(json.loads(details))
        except (ValueError, KeyError, TypeError):
            return broken(seq - 1 - base_seq, seq,
                          f"記録 {seq} 番（audit.checkpoint）はチェックポイントとして読めません")
        if identity(noted) not in kept:
            state = "が空です" if not signed else "にその行がありません"
            return broken(seq - 1 - base_seq, seq,
                          f"記録 {seq} 番に記された署名付きチェックポイント（{noted.count} 件、"
                          f"{format_time(noted.at)}）について、チェックポイントファイル {where} "
                          f"{state}。ファイルが空にされたか、行が削られています")
    return None


def check_witnessed(signed, witnessed, where: str) -> ChainVerdict | None:
    """Check 3 above: every checkpoint a public host accepted is in the local file."""
    if signed is None or witnessed is None:
        return None
    kept = {identity(c) for c in signed}
    for checkpoint in witnessed:
        if identity(checkpoint) not in kept:
            return broken(0, checkpoint.count,
                          f"公開ホストの活動記録にある署名付きチェックポイント（"
                          f"{checkpoint.count} 件、{format_time(checkpoint.at)}）が、"
                          f"チェックポイントファイル {where} にありません。"
                          "ファイルが空にされたか、行が削られています")
    return None


def held_against(signed, witnessed):
    """The checkpoints the chain is walked against: the local file's, and when no file is
    configured the public host's (then they are the only witness)."""
    if witnessed is None:
        return signed
    if signed is None:
        return list(witnessed)
    kept = {identity(c) for c in signed}
    return list(signed) + [c for c in witnessed if identity(c) not in kept]
