from datetime import datetime

from intranet.backups.retention import expired

NOW = datetime(2026, 12, 6, 2, 30)


def test_sets_past_retention_go_and_younger_ones_stay():
    names = ["2026-10-01T023000", "2026-10-31T023000", "2026-11-01T023000", "2026-12-06T023000"]
    assert expired(names, NOW, 35, keep="2026-12-06T023000") == ["2026-10-01T023000",
                                                                   "2026-10-31T023000"]


def test_only_old_sets_the_newest_is_never_removed():
    names = ["2026-01-01T023000", "2026-02-01T023000", "2026-03-01T023000"]
    assert expired(names, NOW, 35) == ["2026-01-01T023000", "2026-02-01T023000"]
    assert expired(names[-1:], NOW, 35) == []


def test_the_set_just_made_is_kept_even_when_the_clock_says_otherwise():
    # The clock was set back: a set "from the future" is the newest by name.
    names = ["2026-01-01T023000", "2027-06-01T000000"]
    assert expired(names, NOW, 35, keep="2026-01-01T023000") == []


def test_what_is_not_a_set_is_never_touched():
    names = ["wal", "last-run.json", ".lock", ".incomplete-2026-01-01T023000", "2026-01-01",
             "2026-01-01T023000-2", "2026-01-01T023000.tar", "2026-12-06T023000"]
    assert expired(names, NOW, 35) == ["2026-01-01T023000-2"]
