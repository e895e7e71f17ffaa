"""Usage counts: per day, per process file, added up; a failing disk never fails a lookup."""

from datetime import date

from public_mirror.usage import UsageCounter, totals


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
