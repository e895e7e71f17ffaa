"""Taking snapshots from the inbox: verify, then activate or quarantine, and log either way.

The sequence last accepted is persisted before the snapshot is activated, so restarting
the receiver (or the host) can never be used to roll the public page back.
"""

import hashlib
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from public_mirror import activation_log
from public_mirror.settings import MirrorPaths
from public_mirror.store import read_last_sequence, write_last_sequence
from transfer.errors import SnapshotError, SnapshotTooLarge
from transfer.transports import write_atomically
from transfer.verify import TrustPolicy, check_size, verify_snapshot


class UnreadableUpload(SnapshotError):
    """The receiver cannot read the file (e.g. uploaded with mode 0600): refused like any
    other, so that one such file cannot stop every later snapshot from being received."""


@dataclass(frozen=True)
class Outcome:
    file: str
    accepted: bool
    reason: str = ""
    sequence: int | None = None


def pending(inbox: Path) -> list[Path]:
    """Complete files only: uploads in progress use a dot-name or a .part/.tmp suffix."""
    files = [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")
             and p.suffix not in (".part", ".tmp")]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def receive_once(paths: MirrorPaths, policy: TrustPolicy, now: datetime | None = None):
    for directory in (paths.inbox, paths.quarantine, paths.state):
        directory.mkdir(parents=True, exist_ok=True)
    return [_receive(path, paths, policy, now or datetime.now(UTC)) for path in pending(paths.inbox)]


def watch(paths: MirrorPaths, policy: TrustPolicy, interval: float = 2.0):  # pragma: no cover
    while True:
        receive_once(paths, policy)
        time.sleep(interval)


def _receive(path: Path, paths: MirrorPaths, policy: TrustPolicy, now: datetime) -> Outcome:
    try:
        data = _read_capped(path, policy)
        snapshot = verify_snapshot(data, policy, last_sequence=read_last_sequence(paths.last_sequence),
                                   now=now)
    except SnapshotError as refused:
        reason = f"{type(refused).__name__}: {refused}"
        size = _quarantine(path, paths, reason)
        activation_log.append(paths.activation_log, "rejected", file=path.name, reason=reason,
                              size=size)
        return Outcome(path.name, False, reason)
    write_last_sequence(paths.last_sequence, snapshot.sequence)
    write_atomically(paths.active, data)
    path.unlink()
    activation_log.append(paths.activation_log, "accepted", file=path.name,
                          sequence=snapshot.sequence, sha256=hashlib.sha256(data).hexdigest(),
                          size=len(data), entries=snapshot.table.count,
                          created_at=snapshot.header["created_at"],
                          signed_by=sorted(snapshot.signed_by))
    return Outcome(path.name, True, sequence=snapshot.sequence)


def _read_capped(path: Path, policy: TrustPolicy) -> bytes:
    """Refuse an oversized file by its size, before reading it; then read at most cap+1."""
    check_size(path.stat().st_size, policy)
    try:
        with path.open("rb") as handle:
            data = handle.read(policy.max_size + 1)
    except OSError as error:
        raise UnreadableUpload(f"{error.strerror} (mode {path.stat().st_mode & 0o777:04o})") from None
    if len(data) > policy.max_size:  # grew while we looked
        raise SnapshotTooLarge(f"more than {policy.max_size} bytes")
    return data


def _quarantine(path: Path, paths: MirrorPaths, reason: str) -> int:
    """Move the refused file aside with its reason; return its size for the log."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = paths.quarantine / f"{stamp}-{path.name}"
    size = path.stat().st_size
    # Not os.replace: under the unit, inbox and state are separate mounts (ReadWritePaths=),
    # where a rename fails with EXDEV; move copies then removes.
    try:
        shutil.move(path, target)
    except PermissionError:
        # Unreadable, so nothing to keep but its name and size; removed, it blocks nothing.
        path.unlink()
        reason += f" (removed unread, {size} bytes)"
    target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
    return size
