"""A clock a test moves by hand, for the code that takes one (``clock=``): expiry, windows
and re-checks are judged at the moment the test names, never waited for."""

import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time

from transfer.usage_counts import JAPAN


class HandClock:
    """Seconds (monotonic or POSIX, as the code asks); ``now`` moves only when told."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def on_a_hand_clock(holder, name: str = "clock") -> HandClock:
    """``holder.<name>`` (a running app's snapshot store, say) replaced by a hand clock that
    starts at the monotonic now, so what it already scheduled keeps its place."""
    clock = HandClock(time.monotonic())
    setattr(holder, name, clock)
    return clock



def seconds_to_midnight(now: float) -> float:
    """Seconds from POSIX time ``now`` to the next midnight, Japan's or UTC's, whichever comes
    first: the days the code counts by (a resident's, a Japan day's figure) and the days the
    machine's own ``date.today()`` turns over."""
    moment = datetime.fromtimestamp(now, UTC)
    return min(_to_next_midnight(moment.astimezone(zone)) for zone in (JAPAN, UTC))


def _to_next_midnight(moment: datetime) -> float:
    midnight = datetime.combine(moment.date() + timedelta(days=1), dt_time(), moment.tzinfo)
    return (midnight - moment).total_seconds()


def clear_of_midnight(margin: float, now=time.time, sleep=time.sleep) -> float:
    """When the next midnight is less than ``margin`` seconds away, wait until just past it,
    so that what a test reads as "today" at its start is still today at its end; the
    seconds waited (0 almost always)."""
    left = seconds_to_midnight(now())
    if left >= margin:
        return 0.0
    sleep(left + 1)
    return left + 1
