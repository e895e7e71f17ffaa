"""Usage counts a city can report ("N lookups a day") without storing who or what.

Per day: lookups, found, not found, and found per status code. No address, no number,
no time finer than the day. Each worker writes its own file; ``shinsei-mirror status``
adds them up.
"""

import json
import logging
import os
import threading
import time
from collections import Counter, deque
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)

FOLD_AT = 4096   # answers noted before they are added up (bounds the memory they hold)


class UsageCounter:
    """Counting is off the answer's path: an answer is noted in a queue (one append, no
    lock) and added up into the day's counts in batches — every ``FOLD_AT`` answers and
    at each flush. The day is the one the answer was given on, whenever it is added up."""

    def __init__(self, directory: Path, flush_every: float = 30.0):
        self.directory = directory
        self.flush_every = flush_every
        self._counts: dict[str, Counter] = {}
        self._noted: deque = deque()   # (day or None, second, found, status code), unlocked
        self._lock = threading.RLock()  # re-entered by the SIGTERM flush
        self._next_flush = time.monotonic() + flush_every

    def count(self, found: bool, status_code: str | None = None, day: date | None = None):
        self._noted.append((day, int(time.time()), found, status_code))
        if len(self._noted) >= FOLD_AT:
            self._fold()
        if time.monotonic() >= self._next_flush:
            self.flush()

    def _fold(self) -> None:
        """Add the noted answers up. ``popleft`` is atomic, so an answer noted meanwhile by
        another thread is either taken now or left for the next fold, never lost."""
        with self._lock:
            noted, taken = self._noted, []
            while noted:
                try:
                    taken.append(noted.popleft())
                except IndexError:
                    break
            # Answers in the same second with the same result are one entry: a few dozen
            # to add up, however many thousand were noted.
            for (day, second, found, status_code), times in Counter(taken).items():
                counter = self._counts.setdefault(
                    (day or date.fromtimestamp(second)).isoformat(), Counter())
                counter["lookups"] += times
                counter["found" if found else "not_found"] += times
                if status_code:
                    counter[f"status:{status_code}"] += times

    def flush(self):
        """Write this process's counts; a failure (a full disk) is logged, never a
        resident's error page."""
        with self._lock:
            self._next_flush = time.monotonic() + self.flush_every
            self._fold()
            snapshot = {day: dict(counter) for day, counter in self._counts.items()}
        if not snapshot:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for day, counts in snapshot.items():
                path = self.directory / f"{day}.{os.getpid()}.json"
                temporary = path.with_suffix(".tmp")
                temporary.write_text(json.dumps(counts, sort_keys=True))
                os.replace(temporary, path)
        except OSError as error:
            log.error("usage counts not written to %s: %s", self.directory, error)


def totals(directory: Path) -> dict[str, Counter]:
    days: dict[str, Counter] = {}
    for path in sorted(directory.glob("*.json")) if directory.exists() else []:
        day = path.name.split(".", 1)[0]
        days.setdefault(day, Counter()).update(json.loads(path.read_text()))
    return days
