"""The signer (``shinsei-transfer sign-spool``): the only step that holds the signing key.

It reads the builder's spool (``built/``), which it treats as hostile input, and writes
the signed snapshot to ``signed/`` for the pusher. It opens no database and no network
connection (its unit has no address family but AF_UNIX for the journal, and no database
role). What it signs is checked twice: the spool field by field (``transfer.spool``), then
the signed result by the same verifier the public hosts run, with the signer's own public
keys and origin — a spool that would be refused there is refused here, and nothing is
written.

The audit head the builder read is signed here too (the checkpoint), appended to the
checkpoint file only this user can write, and carried in the snapshot header.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from intranet.audit import checkpoints
from transfer import errors, spool
from transfer.build import sign_body
from transfer.keys import SigningKey
from transfer.transports import write_atomically
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
        return Signed(checkpoint)
    sequence = built.sequence
    assert sequence is not None
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
