"""Answer pages kept for the live snapshot: after a publication residents arrive in bursts,
and everyone with the same answer gets the same bytes.

Keys are ``Reply.cache_key``: (sequence, language, programme, found, status, dates) — the
typed number is never part of a page, so one page serves every number with that answer.
A page for a new sequence empties the cache (the old snapshot's answers are over); the
cache is bounded, oldest first out.
"""

import threading
from collections import OrderedDict

LIMIT = 4096


class AnswerCache:
    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self._pages: OrderedDict = OrderedDict()
        self._sequence = None
        self._lock = threading.Lock()

    def get(self, key):
        # Without the lock: one dict read (atomic), and a page is kept under its whole key,
        # the snapshot's sequence included — no other answer's page can be read here.
        return self._pages.get(key) if key and key[0] == self._sequence else None

    def keep(self, key, page) -> None:
        sequence = key[0]
        with self._lock:
            if self._sequence is not None and sequence < self._sequence:
                return   # a request that still held the old snapshot: its page is not kept
            if sequence != self._sequence:
                self._pages.clear()
                self._sequence = sequence
            self._pages[key] = page
            while len(self._pages) > self.limit:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
