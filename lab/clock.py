"""A clock a test moves by hand, for the code that takes one (``clock=``): expiry, windows
and re-checks are judged at the moment the test names, never waited for."""

import time


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
