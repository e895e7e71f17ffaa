"""Usage counts: per day, per process file, added up; a failing disk never fails a lookup."""

import threading
import time
from datetime import date, datetime

from public_mirror.usage import FOLD_AT, UsageCounter, totals
from transfer import usage_counts


def test_counts_per_day_are_added_up_across_processes(tmp_path):
    counter = UsageCounter(tmp_path)
    counter.count(True, "received", day=date(2026, 11, 26))
    counter.count(False, day=date(2026, 11, 26))
    counter.flush()
    (tmp_path / "2026-11-26.99999.json").write_text('{"lookups": 2, "found": 2}')  # another process
    day = totals(tmp_path)["2026-11-26"]
    assert day["lookups"] == 4 and day["found"] == 3 and day["status:received"] == 1


def test_nothing_counted_writes_nothing(tmp_path):
    UsageCounter(tmp_path / "usage").flush()
    assert not (tmp_path / "usage").exists()


def test_a_failing_disk_is_logged_not_raised(tmp_path, caplog):
    blocked = tmp_path / "usage"
    blocked.write_text("a file where the folder should be")
    counter = UsageCounter(blocked, flush_every=0)
    counter.count(True, "received")                # flushes at once, and fails
    assert "usage counts not written" in caplog.text


def test_answers_noted_by_many_threads_are_all_counted_on_their_day(tmp_path):
    counter = UsageCounter(tmp_path)

    def answer(found):
        for _ in range(3 * FOLD_AT // 4):      # across several folds, threads interleaved
            counter.count(found, "received" if found else None)

    threads = [threading.Thread(target=answer, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counter.count(True, "received", day=date(2026, 11, 26))   # an answer given yesterday
    counter.flush()
    today = totals(tmp_path)[usage_counts.today_in_japan().isoformat()]
    assert today["lookups"] == 4 * (3 * FOLD_AT // 4)
    assert today["found"] == today["not_found"] == today["status:received"] == 2 * (3 * FOLD_AT // 4)
    assert totals(tmp_path)["2026-11-26"] == {"lookups": 1, "found": 1, "status:received": 1}


def test_the_day_is_when_the_answer_was_given_not_when_it_is_added_up(tmp_path, monkeypatch):
    counter = UsageCounter(tmp_path)
    just_before_midnight = datetime(2026, 11, 26, 23, 59, 59, 900000,
                                    tzinfo=usage_counts.JAPAN).timestamp()
    monkeypatch.setattr(time, "time", lambda: just_before_midnight)
    counter.count(True, "received")
    monkeypatch.setattr(time, "time", lambda: just_before_midnight + 1)   # the next day
    counter.flush()
    assert set(totals(tmp_path)) == {"2026-11-26"}


def test_the_day_is_japan_s_on_a_host_whose_clock_is_on_utc(tmp_path, monkeypatch):
    """00:30 in Japan is 15:30 UTC the day before: a public host set to UTC (Debian's
    default) counted the answer on the day before, and Japan's "today" in the report the
    staff's figure reads had none of the morning's lookups (fresh-clone run K, step 12)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        counter = UsageCounter(tmp_path)
        half_past_midnight = datetime(2026, 12, 7, 0, 30, tzinfo=usage_counts.JAPAN).timestamp()
        monkeypatch.setattr(time, "time", lambda: half_past_midnight)
        counter.count(True, "received")
        counter.flush()
        assert set(totals(tmp_path)) == {"2026-12-07"}
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_report_the_intranet_fetches_sums_the_workers_per_programme_and_day(tmp_path):
    from transfer import usage_counts

    report = tmp_path / "chroot-usage" / "usage-counts.json"
    report.parent.mkdir()
    today = usage_counts.today_in_japan()
    counter = UsageCounter(tmp_path / "usage", report=report)
    counter.count(True, "received", day=today, programme="p2020")
    counter.count(False, day=today, programme="p2020")
    counter.count_limited("p2020", day=today)
    counter.count_limited(None, day=today)          # refused before any programme was read
    counter.count(True, "received", day=today, programme="p2")
    counter.count(True, "received", day=date(2001, 1, 1), programme="p2")   # outside the month
    counter.flush()
    # Another worker's file for the same day is added in, whichever flushes last.
    (tmp_path / "usage" / f"{today}.99999.json").write_text(
        '{"lookups": 2, "found": 2, "programme:p2020:lookups": 2, "programme:p2020:found": 2}')
    counter.count(True, "received", day=today, programme="p2")
    counter.flush()
    rows = usage_counts.read(report.read_bytes(), {"p2020", "p2"}, today)
    assert rows == [usage_counts.DayCount(today, "p2", 2, 2, 0, 0),
                    usage_counts.DayCount(today, "p2020", 4, 3, 1, 1)]
    assert [p.name for p in report.parent.iterdir()] == ["usage-counts.json"]
    # The day's overall figures are unchanged: a limited question is not a lookup.
    assert totals(tmp_path / "usage")[today.isoformat()]["lookups"] == 6
