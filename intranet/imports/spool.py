"""Uploaded files between the dry run and the confirm: private, owned, short-lived.

Each upload is kept as ``<user id>-<sha256>`` with mode 0600 next to a small JSON note of
its real file name and when it came. The confirm step finds a file only under the
confirming user's own id, so nobody can confirm a colleague's upload or a name they made
up. A file is removed once confirmed or cancelled, and any left behind expires after
``imports.spool_max_age`` seconds.
"""

import json
import logging
import os
import re
import stat
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Spool:
    def __init__(self, directory: Path, max_age: int):
        self.directory, self.max_age = directory, max_age

    @classmethod
    def from_settings(cls, settings):
        directory = Path(settings.get("imports.spool_dir")
                         or Path(tempfile.gettempdir()) / "shinsei-imports")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _make_private(directory)
        return cls(directory, settings["imports.spool_max_age"])

    def _paths(self, user_id: int, digest: str):
        data = self.directory / f"{user_id}-{digest}"
        return data, data.with_suffix(".json")

    def keep(self, user_id: int, digest: str, filename: str, data: bytes) -> None:
        self.expire()
        path, note = self._paths(user_id, digest)
        _write_private(path, data)
        _write_private(note, json.dumps({"filename": filename, "at": time.time()},
                                        ensure_ascii=False).encode("utf-8"))

    def take(self, user_id: int, digest: str) -> tuple[str, bytes] | None:
        """The upload's real name and bytes, if this user made it and it has not expired."""
        self.expire()
        if not _SHA256.match(digest or ""):
            return None
        path, note = self._paths(user_id, digest)
        try:
            filename = json.loads(note.read_text(encoding="utf-8"))["filename"]
            return filename, path.read_bytes()
        except (OSError, ValueError, KeyError):
            return None

    def discard(self, user_id: int, digest: str) -> None:
        if _SHA256.match(digest or ""):
            for path in self._paths(user_id, digest):
                path.unlink(missing_ok=True)

    def expire(self) -> None:
        cutoff = time.time() - self.max_age
        for path in self.directory.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue


def _make_private(directory: Path) -> None:
    """The folder holds applicants' files: ours alone. One that existed before (mkdir keeps
    its mode: 0755 seen) is made 0700 and said so; one that is a link or another user's is
    refused, naming it."""
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise SpoolRefused(f"imports.spool_dir: {directory} は、このアプリのアカウントが持つ"
                           "フォルダーではありません（リンクか、別のアカウントのもの）。"
                           "取込ファイルを置くため、専用のフォルダーを指定してください")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(directory, 0o700)
        log.warning("imports.spool_dir %s was %o: made 0700 (it holds uploaded files)",
                    directory, stat.S_IMODE(info.st_mode))


class SpoolRefused(PermissionError):
    """A spool folder this app cannot keep private (an OSError: the commands that find the
    folder say it as they say any file they cannot use)."""


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
