"""The signer (``shinsei-transfer sign-spool``): the only step that holds the signing key.
It imports nothing but ``transfer`` (``tests/unit/test_import_graph.py``).

It reads the builder's spool (``built/``), which it treats as hostile input, and writes
the signed snapshot to ``signed/`` for the pusher. It opens no database and no network
connection (its unit has no address family but AF_UNIX for the journal, and no database
role). What it signs is checked twice: the spool field by field (``transfer.spool``), then
the signed result by the same verifier the public hosts run, with the signer's own public
keys and origin — a spool that would be refused there is refused here, and nothing is
written.

The audit head the builder read is signed here too (the checkpoint), appended to the
checkpoint file only this user can write, and carried in the snapshot header.

With nothing new to sign, ``signed/`` is made to hold the current publication's file only —
the one the builder names for hosts that missed it (``intranet.publications.catchup``) —
with the plan beside it for the pusher; any other signed file (one the intranet settled as
not published) is removed, so the pusher never sends what the intranet does not stand by.
The file is never signed again: the same bytes go out.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from transfer import checkpoints, errors, spool
from transfer.build import sign_body
from transfer.files import write_atomically
from transfer.keys import SigningKey
from transfer.verify import DEFAULT_MAX_SIZE, Origin, TrustPolicy, verify_snapshot

log = logging.getLogger(__name__)

# The builder reads the audit head moments before the signer runs; a spool whose head is
# older than this was left behind by a run that never finished and is not signed now.
MAX_SPOOL_AGE = timedelta(hours=6)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Signed:
    checkpoint: checkpoints.Checkpoint
    sequence: int | None = None     # None: nothing was approved, only the checkpoint signed
    path: Path | None = None
    already: bool = False           # this spool was signed before; nothing new written
    catch_up: int | None = None     # nothing new: the sequence kept for hosts that missed it
    catch_up_missing: str = ""      # the builder named one whose file is not here: why


def sign_spool(root: Path, signing_keys: list[SigningKey], origin: Origin, *,
               checkpoint_file: Path | None, now: datetime | None = None,
               max_size: int = DEFAULT_MAX_SIZE) -> Signed:
    """Sign what ``root/built`` holds into ``root/signed``; raise ``spool.SpoolRefused``
    (the message says which file, which field, why) for anything that is not a spool."""
    now = now or datetime.now(UTC)
    folders = spool.directories(root)
    built = spool.read_built(folders[spool.BUILT], max_size)
    checkpoint = _checkpoint(folders[spool.BUILT] / spool.MANIFEST, built, signing_keys[0], now)
    if built.header is None:
        _keep_checkpoint(checkpoint_file, checkpoint)
        kept, missing = _keep_current(folders[spool.SIGNED], built.catch_up)
        return Signed(checkpoint, catch_up=kept, catch_up_missing=missing)
    sequence = built.sequence
    assert sequence is not None
    spool.remove_catch_up(folders[spool.SIGNED])     # a new publication goes everywhere
    newest = spool.newest_signed(folders[spool.SIGNED])
    if newest is not None and newest[0] >= sequence:
        if newest[0] == sequence:
            return Signed(checkpoint, sequence, newest[1], already=True)
        raise spool.SpoolRefused(
            f"{folders[spool.BUILT] / spool.MANIFEST}: sequence {sequence} は署名済みの "
            f"{newest[0]} より古いものです（古い表の再署名はしません）")
    header = {**built.header, "audit_checkpoint": checkpoint.as_dict()}
    result = sign_body(built.body, built.manifest["entry_count"], built.manifest["skipped"],
                       signing_keys=signing_keys, header=header)
    policy = TrustPolicy([key.public_key for key in signing_keys], origin, max_size=max_size)
    try:
        verify_snapshot(result.data, policy, last_sequence=None, now=now)
    except errors.SnapshotError as refused:
        raise spool.SpoolRefused(
            f"{folders[spool.BUILT]}: 署名しても公開ホストの検証を通らない表です"
            f"（{type(refused).__name__}: {refused}）。署名していません") from None
    target = folders[spool.SIGNED] / spool.snapshot_name(sequence)
    write_atomically(target, result.data)
    for old in folders[spool.SIGNED].glob("snapshot-*.bin"):
        if old != target:
            old.unlink(missing_ok=True)   # the pusher sends only the newest
    _keep_checkpoint(checkpoint_file, checkpoint)
    log.info("signed %s: %s entries, %s bytes, keys %s", target.name, result.header["entry_count"],
             len(result.data), ",".join(k.key_id for k in signing_keys))
    return Signed(checkpoint, sequence, target)


def _keep_current(signed: Path, catch_up: dict[str, Any] | None) -> tuple[int | None, str]:
    """Only the current publication's signed file stays, with the catch-up plan beside it;
    (its sequence, or None and why not)."""
    wanted = catch_up["sequence"] if catch_up else None
    kept = None
    for path in sorted(signed.glob("snapshot-*.bin")):
        if path.name == spool.snapshot_name(wanted or 0) and path.is_file() \
                and not path.is_symlink():
            kept = wanted
            continue
        log.warning("%s removed: not the current publication (the intranet did not record it "
                    "as sent, or a newer one was)", path.name)
        path.unlink(missing_ok=True)
    if kept is None or catch_up is None:
        spool.remove_catch_up(signed)
        missing = "" if catch_up is None else (
            f"公開 {catch_up['publication']}（sequence {catch_up['sequence']}）の署名済み"
            "ファイルがありません。停止していた公開先へは、次の公開で届けます")
        if missing:
            log.warning("%s", missing)
        return None, missing
    spool.write_catch_up(signed, catch_up)
    return kept, ""


def _checkpoint(path: Path, built: spool.Built, key: SigningKey,
                now: datetime) -> checkpoints.Checkpoint:
    """The audit head the builder read, signed — if it is plausibly this run's."""
    fields = built.manifest["checkpoint"]
    try:
        unsigned = checkpoints.Checkpoint.from_dict(fields)
    except (ValueError, KeyError, TypeError) as error:
        raise spool.SpoolRefused(f"{path}: checkpoint が読めません（{error}）") from None
    at = unsigned.at.replace(tzinfo=UTC)
    if at > now + CLOCK_SKEW or at < now - MAX_SPOOL_AGE:
        raise spool.SpoolRefused(
            f"{path}: checkpoint.at {fields['at']} が現在時刻から離れすぎています"
            f"（{int(MAX_SPOOL_AGE.total_seconds() // 3600)} 時間以内であること）。"
            "終わらなかった回の残りと見て署名しません")
    return checkpoints.sign(unsigned.count, unsigned.head_hash, unsigned.at, key)


def _keep_checkpoint(path: Path | None, checkpoint: checkpoints.Checkpoint) -> None:
    if path is not None:
        checkpoints.append_to_file(path, checkpoint)
