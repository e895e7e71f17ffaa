"""Per-address rate limiting: enough for a family checking a few numbers, not for enumeration.

A sliding window per client address, in each worker's memory (the reverse proxy in front
adds its own limit across workers). Addresses are held only as long as the window.
"""

import threading
import time
from collections import deque


class RateLimiter:
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


def client_address(environ, trusted_proxies: set[str]) -> str:
    """The resident's address; X-Forwarded-For is believed only from a trusted proxy."""
    remote = environ.get("REMOTE_ADDR", "")
    if remote not in trusted_proxies:
        return remote
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address
    return remote
