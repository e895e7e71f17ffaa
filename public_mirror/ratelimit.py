"""Per-address rate limiting: enough for a family checking a few numbers, not for enumeration.

A sliding window per client address, shared by every worker process of the host through
one SQLite file (WAL, one short write transaction per lookup), so the configured limit is
the effective one however many processes serve the port. Addresses are stored only as a
keyed hash, and only as long as the window. If the shared file cannot be used, each worker
falls back to its own window in memory (logged), rather than refusing every resident.
"""

import hashlib
import hmac
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)


class RateLimiter:
    """One process's window in memory: the fallback, and the reference for the shared one."""

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def allow(self, address: str) -> tuple[bool, int]:
        """(allowed?, seconds until the next lookup would be allowed)."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            hits = self._hits.setdefault(address, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False, max(1, int(hits[0] + self.window - now) + 1)
            hits.append(now)
            return True, 0

    def _sweep(self, now):
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        for address in [a for a, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[address]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (client BLOB NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_by_client ON hits (client, at);
"""


class SharedRateLimiter:
    """The same window as ``RateLimiter``, kept in a file every worker process shares."""

    def __init__(self, path, limit: int, window: float, *, secret: bytes, clock=time.time):
        self.path, self.limit, self.window, self.clock = Path(path), limit, window, clock
        self._secret = hmac.new(secret, b"shinsei rate limit\x00", hashlib.sha256).digest()
        self._local = threading.local()
        self._fallback = RateLimiter(limit, window, clock=clock)
        self._last_sweep = 0.0

    def allow(self, address: str) -> tuple[bool, int]:
        try:
            return self._allow(self._client(address), self.clock())
        except (sqlite3.Error, OSError) as error:
            log.error("rate limit file %s unusable (%s): this worker limits on its own",
                      self.path, error)
            return self._fallback.allow(address)

    def _client(self, address: str) -> bytes:
        return hmac.new(self._secret, address.encode("utf-8", "replace"), hashlib.sha256).digest()[:16]

    def _allow(self, client: bytes, now: float) -> tuple[bool, int]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            if now - self._last_sweep > self.window:
                self._last_sweep = now
                db.execute("DELETE FROM hits WHERE at <= ?", (now - self.window,))
            else:
                db.execute("DELETE FROM hits WHERE client = ? AND at <= ?",
                           (client, now - self.window))
            count, oldest = db.execute("SELECT count(*), min(at) FROM hits WHERE client = ?",
                                       (client,)).fetchone()
            if count >= self.limit:
                return False, max(1, int(oldest + self.window - now) + 1)
            db.execute("INSERT INTO hits (client, at) VALUES (?, ?)", (client, now))
            return True, 0
        finally:
            db.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and per process (a fork must not share the parent's).
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")   # a lost window after a power cut is harmless
            db.executescript(_SCHEMA)
            held = self._local.held = (os.getpid(), db)
        return held[1]


def client_address(environ, trusted_proxies) -> str:
    """The resident's address; X-Forwarded-For is believed only from a trusted proxy."""
    remote = environ.get("REMOTE_ADDR", "")
    if remote not in trusted_proxies:
        return remote
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address
    return remote
