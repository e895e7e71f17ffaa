"""Usage counts a city can report ("N lookups a day") without storing who or what.

Per day: lookups, found, not found, and found per status code; per programme and day also
the questions refused by the rate limit. No address, no number, no time finer than the day.
Each worker writes its own file; ``shinsei-mirror status`` adds them up, and each flush also
writes the sum per programme and day (``transfer.usage_counts``) to the report the intranet's
pusher fetches (``mirror.usage_report``, in the upload account's chroot, readable only).
"""

import json
import logging
import os
import threading
import time
from collections import Counter, deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from transfer import usage_counts

log = logging.getLogger(__name__)

FOLD_AT = 4096   # answers noted before they are added up (bounds the memory they hold)


class UsageCounter:
    """Counting is off the answer's path: an answer is noted in a queue (one append, no
    lock) and added up into the day's counts in batches — every ``FOLD_AT`` answers and
    at each flush. The day is the one the answer was given on, whenever it is added up."""

    def __init__(self, directory: Path, flush_every: float = 30.0,
                 report: Path | None = None):
        self.directory, self.report = directory, report
        self.flush_every = flush_every
        self._counts: dict[str, Counter] = {}
        # (day or None, second, result, status code, programme), unlocked
        self._noted: deque = deque()
        self._lock = threading.RLock()  # re-entered by the SIGTERM flush
        self._next_flush = time.monotonic() + flush_every

    def count(self, found: bool, status_code: str | None = None, day: date | None = None,
              programme: str | None = None):
        self._note(day, "found" if found else "not_found", status_code, programme)

    def count_limited(self, programme: str | None, day: date | None = None):
        """A question refused by the rate limit: counted per programme, not a lookup."""
        self._note(day, "limited", None, programme)

    def _note(self, day, result: str, status_code, programme) -> None:
        self._noted.append((day, int(time.time()), result, status_code, programme))
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
            for (day, second, result, status_code, programme), times in Counter(taken).items():
                # The Japan day, whatever the host's time zone: the report and the staff's
                # figure count Japan days (a host on UTC put 00:00–09:00 JST on the day
                # before, and the report, which ends at Japan's today, left them out).
                when = day or usage_counts.today_in_japan(datetime.fromtimestamp(second, UTC))
                counter = self._counts.setdefault(when.isoformat(), Counter())
                answered = result != "limited"
                if answered:
                    counter["lookups"] += times
                counter[result] += times
                if status_code:
                    counter[f"status:{status_code}"] += times
                if programme:
                    if answered:
                        counter[f"programme:{programme}:lookups"] += times
                    counter[f"programme:{programme}:{result}"] += times

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
            if self.report is not None:
                write_report(self.directory, self.report)
        except OSError as error:
            log.error("usage counts not written to %s: %s", self.directory, error)


def totals(directory: Path) -> dict[str, Counter]:
    days: dict[str, Counter] = {}
    for path in sorted(directory.glob("*.json")) if directory.exists() else []:
        day = path.name.split(".", 1)[0]
        days.setdefault(day, Counter()).update(json.loads(path.read_text()))
    return days


def report_rows(directory: Path, today: date) -> list[usage_counts.DayCount]:
    """Every worker's counts added up per programme and day, for the last month."""
    first = today - timedelta(days=usage_counts.DAYS_WRITTEN - 1)
    rows = []
    for day, counts in totals(directory).items():
        try:
            when = date.fromisoformat(day)
        except ValueError:
            continue                      # not a day's file of ours
        if not first <= when <= today:
            continue
        programmes = {key.split(":")[1] for key in counts if key.startswith("programme:")}
        for code in sorted(programmes):
            figures = {name: counts.get(f"programme:{code}:{name}", 0)
                       for name in usage_counts.COUNTS}
            rows.append(usage_counts.DayCount(when, code, **figures))
    return rows


def write_report(directory: Path, report: Path) -> None:
    """The sum the intranet fetches, replaced whole (it reads the old file or the new). Each
    worker writes its own temporary name: two flushing at once never share one."""
    data = usage_counts.encode(report_rows(directory, usage_counts.today_in_japan()))
    temporary = report.with_name(f".{report.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, report)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
