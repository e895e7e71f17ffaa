"""Uploaded files between the dry run and the confirm: private, owned, short-lived.

Each upload is kept as ``<user id>-<sha256>`` with mode 0600 next to a small JSON note of
its real file name and when it came. The confirm step finds a file only under the
confirming user's own id, so nobody can confirm a colleague's upload or a name they made
up. A file is removed once confirmed or cancelled, and any left behind expires after
``imports.spool_max_age`` seconds.
"""

import json
import os
import re
import tempfile
import time
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Spool:
    def __init__(self, directory: Path, max_age: int):
        self.directory, self.max_age = directory, max_age

    @classmethod
    def from_settings(cls, settings):
        directory = Path(settings.get("imports.spool_dir")
                         or Path(tempfile.gettempdir()) / "shinsei-imports")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
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


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
