"""The mirror's state on disk, and the active snapshot as the web workers see it.

Activation is one ``os.replace`` of ``active.snapshot``: a reader opens either the old
file or the new one, never half of one. At each look the file is also held to the
receiver's ledger (``ledger.judge_active``): a file that is not the one the receiver
activated (an older signed snapshot copied over it by hand) answers nothing — residents
are told 更新中 and ``/healthz`` says "mismatch". Each worker notices the replacement by the
file's identity (inode, mtime) and swaps its in-memory snapshot; a request that already
holds the old one finishes with it. The file is looked at no more than once every
``RECHECK`` seconds while a snapshot is loaded: a ``stat`` on every request was 3 % of
the server's time at 64 connections, and a publication takes far longer than 0.1 s to
reach a resident anyway.

A big file (over ``BESIDE_OVER`` bytes: a city's 2,000,000 entries are 42 MB, 0.35–0.6 s
to read and verify) is loaded by a thread of its own while the previous snapshot keeps
answering every request — the request that noticed it included; it answers from the
moment it is loaded and judged. (Loaded under the lock in the request, it held that
request, and every request that looked meanwhile, for the whole load.) The first snapshot
of a process, and small ones, are loaded in the request as before.
"""

import hashlib
import logging
import os
import threading
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from public_mirror.ledger import AGREES, MISMATCH, judge_active
from transfer.errors import KeyFileError, SnapshotError
from transfer.snapshot import parse_time
from transfer.verify import VerifiedSnapshot, verify_snapshot

log = logging.getLogger(__name__)
RECHECK = 0.1   # seconds between looks at the active file while a snapshot answers
BESIDE_OVER = 1 << 20   # bytes: a bigger file is loaded beside the one answering


class ActiveSnapshot:
    """The snapshot this worker answers from, reloaded when the active file changes, and
    answered from only while the receiver's ledger says it is the one activated."""

    def __init__(self, path: Path, trust, recheck: float = RECHECK, clock=time.monotonic,
                 ledger: Path | None = None, beside_over: int | None = None):
        """``trust``: a TrustPolicy, or a callable returning the current one. ``ledger``:
        the receiver's state file (``last-sequence``) the file is held to at each look
        (``ledger.judge_active``); None: not held to one (tools reading a file).
        ``beside_over``: a new file bigger than this many bytes is loaded by a thread of its
        own while the current snapshot answers (the web app: ``BESIDE_OVER``); None: always
        in the caller (a command that reports on the file once)."""
        self.path, self.ledger, self.beside_over = path, ledger, beside_over
        self._loading = None   # the identity a thread is loading beside, if any
        self.trust = trust if callable(trust) else (lambda: trust)
        self.recheck, self.clock = recheck, clock
        self._lock = threading.Lock()
        self._identity = None
        self._ledger_identity = None
        self._snapshot: VerifiedSnapshot | None = None
        self._sha = ""
        self._served: VerifiedSnapshot | None = None
        self._next_look = float("-inf")
        self.problem: str | None = None   # why the active file could not be loaded, for /healthz
        self.verdict, self.disagreement = AGREES, ""   # against the ledger, for /healthz

    def current(self) -> VerifiedSnapshot | None:
        now = self.clock()
        if now < self._next_look:
            return self._served
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        ledger = _identity(self.ledger)
        if identity != self._identity and self._beside(stat):
            self._load_beside(identity, stat.st_ctime_ns)   # the current one answers meanwhile
        elif identity != self._identity or ledger != self._ledger_identity:
            with self._lock:
                if identity != self._identity:
                    self._take(identity, self._read())
                self._judge(stat.st_ctime_ns, ledger)
        # Only while a snapshot answers: with none (yet), every request looks again.
        self._next_look = now + self.recheck if self._served is not None else float("-inf")
        return self._served

    def _beside(self, stat) -> bool:
        return (self.beside_over is not None and self._served is not None
                and stat.st_size > self.beside_over)

    def _load_beside(self, identity, placed_ns: int) -> None:
        with self._lock:
            if self._loading == identity:
                return
            self._loading = identity
        threading.Thread(target=self._loader, args=(identity, placed_ns),
                         name="snapshot-load", daemon=True).start()

    def _loader(self, identity, placed_ns: int) -> None:
        loaded = None
        try:
            loaded = self._read()
        finally:   # even if reading failed unforeseen: the next look tries again
            with self._lock:
                if self._loading == identity:   # not overtaken by a newer file
                    if loaded is not None:
                        self._take(identity, loaded)
                        self._judge(placed_ns, _identity(self.ledger))
                    self._loading = None

    @property
    def loading(self) -> bool:
        """A new active file is being loaded beside the snapshot that answers."""
        return self._loading is not None

    def _read(self) -> tuple[VerifiedSnapshot | None, str, str | None]:
        """(snapshot, its SHA-256 for the ledger, why it cannot be loaded)."""
        try:
            data = self.path.read_bytes()
            # Accepted already by the receiver; verified again because this file is what
            # residents will be told. Expiry is judged per request, not here.
            snapshot = verify_snapshot(data, self.trust(), last_sequence=None, now=None)
            # What the ledger records of it (hashlib lets other threads run meanwhile).
            return snapshot, hashlib.sha256(data).hexdigest() if self.ledger else "", None
        except (OSError, SnapshotError, KeyFileError) as error:
            log.error("the active snapshot %s cannot be loaded: %s: %s", self.path,
                      type(error).__name__, error)
            return None, "", f"{type(error).__name__}: {error}"

    def _take(self, identity, loaded) -> None:
        self._snapshot, self._sha, self.problem = loaded
        self._identity = identity

    def _judge(self, placed_ns: int, ledger_identity) -> None:
        """Held to the ledger: a file that is not the activated one answers nothing."""
        snapshot = self._snapshot
        if snapshot is None or self.ledger is None:
            self.verdict, self.disagreement = AGREES, ""
        else:
            verdict, why = judge_active(snapshot.sequence, self._sha, placed_ns, self.ledger)
            if verdict == MISMATCH and self.verdict != MISMATCH:
                log.error("the active snapshot %s is not the one the receiver activated: %s",
                          self.path, why)
            self.verdict, self.disagreement = verdict, why
        self._ledger_identity = ledger_identity
        self._served = None if self.verdict == MISMATCH else snapshot

    @property
    def loaded(self) -> VerifiedSnapshot | None:
        """The active file's snapshot, whether or not the ledger lets it answer."""
        return self._snapshot


def _identity(path: Path | None):
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return "absent"
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def is_expired(snapshot: VerifiedSnapshot, now: datetime | None = None) -> bool:
    expires = _moment(snapshot.header["expires_at"])
    return expires <= (now.timestamp() if now else time.time())


@lru_cache(maxsize=16)
def _moment(text: str) -> float:
    """A snapshot's time as a POSIX timestamp, parsed once (``strptime`` on every request
    was 2 % of the server's time)."""
    return parse_time(text).timestamp()
