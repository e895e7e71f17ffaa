"""The mirror's state on disk, and the active snapshot as the web workers see it.

Activation is one ``os.replace`` of ``active.snapshot``: a reader opens either the old
file or the new one, never half of one. Each worker notices the replacement by the
file's identity (inode, mtime) and swaps its in-memory snapshot; a request that already
holds the old one finishes with it.
"""

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from transfer.errors import KeyFileError, SnapshotError
from transfer.snapshot import parse_time
from transfer.verify import VerifiedSnapshot, verify_snapshot

log = logging.getLogger(__name__)


class ActiveSnapshot:
    """The snapshot this worker answers from, reloaded when the active file changes."""

    def __init__(self, path: Path, trust):
        """``trust``: a TrustPolicy, or a callable returning the current one."""
        self.path = path
        self.trust = trust if callable(trust) else (lambda: trust)
        self._lock = threading.Lock()
        self._identity = None
        self._snapshot: VerifiedSnapshot | None = None
        self.problem: str | None = None   # why the active file could not be loaded, for /healthz

    def current(self) -> VerifiedSnapshot | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if identity != self._identity:
            with self._lock:
                if identity != self._identity:
                    self._load(identity)
        return self._snapshot

    def _load(self, identity):
        try:
            data = self.path.read_bytes()
            # Accepted already by the receiver; verified again because this file is what
            # residents will be told. Expiry is judged per request, not here.
            self._snapshot = verify_snapshot(data, self.trust(), last_sequence=None, now=None)
            self.problem = None
        except (OSError, SnapshotError, KeyFileError) as error:
            log.error("the active snapshot %s cannot be loaded: %s: %s", self.path,
                      type(error).__name__, error)
            self._snapshot, self.problem = None, f"{type(error).__name__}: {error}"
        self._identity = identity


def is_expired(snapshot: VerifiedSnapshot, now: datetime | None = None) -> bool:
    return parse_time(snapshot.header["expires_at"]) <= (now or datetime.now(UTC))
