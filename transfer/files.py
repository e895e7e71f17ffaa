"""Files written so that a power cut or a reader at the wrong moment never sees half of one,
and files only their owner may read (keys, secrets).

Every writer that hands a file to another process (the spool between the publication's
steps, the outbox, the public host's ledger, the backup status) goes through
``write_atomically``: the file appears under its final name complete or not at all.
"""

import os
import stat
from pathlib import Path


def temporary_name(filename: str) -> str:
    """Where a file is written before it takes its name (also the pusher's remote name)."""
    return f".{filename}.part"


def write_atomically(path: Path, data: bytes) -> None:
    """Write under a temporary dot-name, fsync, rename into place, fsync the directory:
    readers see the old file or the whole new one, even after a power cut."""
    path = Path(path)
    temporary = path.with_name(temporary_name(path.name))
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """A rename or a new name in ``directory`` reaches the disk (survives a power cut)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_private(path: Path, what: str, error: type[Exception]) -> bytes:
    """The bytes of a file only its owner may read (a key, a secret); ``error`` naming the
    file and why for one that is missing or that group or others could read."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise error(f"{path}: {what} is readable by group or others "
                    f"(mode {stat.S_IMODE(mode):o}); run chmod 600 on it")
    return path.read_bytes()
