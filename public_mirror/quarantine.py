"""Moving refused files out of the inbox, whatever their name and wherever the quarantine is.

Any name the upload account can create is handled: names are shown escaped (control
characters and undecodable bytes never reach an operator's terminal raw), and the
quarantine name is built to fit the file system's 255-byte limit. When the quarantine is
on another file system (``EXDEV``), a regular file is copied, fsync'd and then unlinked.
"""

import errno
import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from transfer.files import sync_directory

NAME_BYTES = 80   # of the original name kept in the quarantine name


def shown(name: str) -> str:
    """A file name as text safe to print and log: non-printable characters and bytes that
    are not UTF-8 become escapes."""
    out = []
    for char in name:
        if 0xDC80 <= ord(char) <= 0xDCFF:          # an undecodable byte (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif not char.isprintable() or char == "\\":
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def quarantine_name(name: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    kept = shown(name).replace("/", "_").encode("utf-8")[:NAME_BYTES].decode("utf-8", "ignore")
    return f"{stamp}-{digest}-{kept.lstrip('.')}"


def move_aside(path: Path, directory: Path, name: str) -> Path:
    """Move ``path`` (not following it, if a link) to ``directory/name``."""
    target = directory / name
    try:
        os.rename(path, target)
        return target
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    if path.is_symlink() or not path.is_file():
        raise OSError(errno.EXDEV, "only a regular file is copied across file systems", str(path))
    temporary = directory / f".{name}.part"
    with open(path, "rb") as source, open(temporary, "xb") as copy:
        shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.flush()
        os.fsync(copy.fileno())
    os.rename(temporary, target)
    sync_directory(directory)
    os.unlink(path)
    return target
