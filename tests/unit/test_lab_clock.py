"""lab/clock.py: the wait that keeps a test clear of midnight, Japan's and UTC's."""

from datetime import UTC, datetime

from lab.clock import clear_of_midnight, seconds_to_midnight


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_the_nearer_midnight_counts_japan_s_at_15_utc_and_utc_s_at_0():
    assert seconds_to_midnight(at("2026-12-06T14:59:30")) == 30      # 23:59:30 JST
    assert seconds_to_midnight(at("2026-12-06T23:59:50")) == 10      # UTC's own midnight
    assert seconds_to_midnight(at("2026-12-06T15:00:00")) == 9 * 3600   # 00:00 JST: a day ahead


def test_a_test_that_starts_in_the_last_minute_waits_until_just_past_midnight():
    waited = []
    slept = clear_of_midnight(60, now=lambda: at("2026-12-06T14:59:30"), sleep=waited.append)
    assert waited == [31] and slept == 31
    slept = clear_of_midnight(60, now=lambda: at("2026-12-06T14:58:59"), sleep=waited.append)
    assert slept == 0 and waited == [31]
