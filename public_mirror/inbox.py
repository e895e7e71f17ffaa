"""The inbox as the receiver sees it: complete entries only, each read without trusting it.

Anything the upload account can put there is handled: a link is judged as a link (never
followed), a pipe never blocks, a directory or a device is refused, and a file is judged
by its size before it is read. An upload cut off and left unfinished for over an hour is
removed (``sweep_abandoned``), so it cannot hold the inbox's disk for ever.
"""

import errno
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from public_mirror.quarantine import shown
from transfer.errors import SnapshotError, SnapshotTooLarge
from transfer.verify import TrustPolicy, check_size

log = logging.getLogger(__name__)
# An unfinished upload untouched this long belongs to no upload still running: the pusher
# gives up an attempt after transfer.deadline (600 s), an upload being written has its time
# set by every write, and the next attempt removes its own leftover first. Removing one that
# a stalled attempt still held open only fails that attempt (its rename finds no file).
ABANDONED_AFTER = 3600


class NotARegularFile(SnapshotError):
    """A link, a pipe, a directory or a device in the inbox: refused, never followed."""


class Vanished(Exception):
    """Gone between the listing and the reading (taken by another hand): nothing to judge."""


class UnreadableFile(SnapshotError):
    """The receiver may not read it (permissions), or it vanished while being read."""


def pending(inbox: Path) -> list[Path]:
    """Entries waiting, oldest first. Uploads in progress use a dot-name or a .part/.tmp
    suffix; nothing is followed (a link is judged as a link)."""
    entries = []
    with os.scandir(inbox) as scan:
        for entry in scan:
            if entry.name.startswith(".") or Path(entry.name).suffix in (".part", ".tmp"):
                continue
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime_ns
            except FileNotFoundError:
                continue
            entries.append((mtime, entry.name, Path(entry.path)))
    return [path for _mtime, _name, path in sorted(entries)]


@dataclass(frozen=True)
class Abandoned:
    name: str
    size: int
    idle_minutes: int


def is_unfinished_upload(name: str) -> bool:
    """The pusher's temporary name (transfer.files.temporary_name): `.<file>.part`.
    Other dot-names are not ours to remove (`.refused-…` is a refusal set aside)."""
    return name.startswith(".") and name.endswith(".part")


def sweep_abandoned(inbox: Path, after: float = ABANDONED_AFTER) -> list[Abandoned]:
    """Remove unfinished uploads (regular files only) untouched for more than ``after``
    seconds, each with a log line; a fresh one and any other file are left alone. A cut-off
    upload would otherwise hold its share of the inbox's disk for ever."""
    removed = []
    with os.scandir(inbox) as scan:
        entries = [entry for entry in scan if is_unfinished_upload(entry.name)]
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        idle = time.time() - info.st_mtime
        if not stat.S_ISREG(info.st_mode) or idle <= after:
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue   # finished (renamed) or removed by the pusher's next attempt meanwhile
        except OSError as error:
            log.error("cannot remove the abandoned upload %s: %s", shown(entry.name),
                      error.strerror or error)
            continue
        gone = Abandoned(entry.name, info.st_size, int(idle // 60))
        log.warning("removed an abandoned upload %s: unfinished, untouched for %d min (%d bytes)",
                    shown(gone.name), gone.idle_minutes, gone.size)
        removed.append(gone)
    return removed


def read_regular(path: Path, policy: TrustPolicy) -> bytes:
    """The file's bytes, if it is a regular file within the size cap. Opened without
    following a link or blocking on a pipe; the size is judged before reading."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        if error.errno == errno.ELOOP:   # the name is a symbolic link
            raise NotARegularFile("a symbolic link (not followed)") from None
        if error.errno == errno.ENOENT:
            raise Vanished(str(path)) from None
        raise UnreadableFile(f"cannot be opened ({error.strerror})") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise NotARegularFile(f"not a regular file ({_kind(info.st_mode)})")
    with os.fdopen(descriptor, "rb") as handle:
        check_size(info.st_size, policy)
        try:
            data = handle.read(policy.max_size + 1)
        except OSError as error:
            raise UnreadableFile(f"cannot be read ({error.strerror})") from None
    if len(data) > policy.max_size:  # grew while we looked
        raise SnapshotTooLarge(f"more than {policy.max_size} bytes")
    return data


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return kind
    return "special"
