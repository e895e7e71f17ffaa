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
from collections import Counter
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)


class UsageCounter:
    def __init__(self, directory: Path, flush_every: float = 30.0):
        self.directory = directory
        self.flush_every = flush_every
        self._counts: dict[str, Counter] = {}
        self._lock = threading.RLock()  # re-entered by the SIGTERM flush
        self._last_flush = time.monotonic()

    def count(self, found: bool, status_code: str | None = None, day: date | None = None):
        key = (day or date.today()).isoformat()
        with self._lock:
            counter = self._counts.setdefault(key, Counter())
            counter["lookups"] += 1
            counter["found" if found else "not_found"] += 1
            if status_code:
                counter[f"status:{status_code}"] += 1
        if time.monotonic() - self._last_flush > self.flush_every:
            self.flush()

    def flush(self):
        """Write this process's counts; a failure (a full disk) is logged, never a
        resident's error page."""
        with self._lock:
            snapshot = {day: dict(counter) for day, counter in self._counts.items()}
            self._last_flush = time.monotonic()
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
