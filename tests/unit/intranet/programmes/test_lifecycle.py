"""The lifecycle's pure rules: state from the dates, the retention's end, read-only."""

from dataclasses import dataclass
from datetime import date, datetime

import pytest

from intranet.programmes import lifecycle
from intranet.refusals import Refused


@dataclass
class P:
    name: str = "特別定額給付金"
    retention_years: int = 5
    lookup_closed_at: datetime | None = None
    archived_at: datetime | None = None
    disposed_at: datetime | None = None


def test_state_follows_the_latest_step():
    at = datetime(2021, 3, 31, 1, 0)
    assert lifecycle.state(P()) == lifecycle.OPEN
    assert lifecycle.state(P(lookup_closed_at=at)) == lifecycle.LOOKUP_CLOSED
    assert lifecycle.state(P(lookup_closed_at=at, archived_at=at)) == lifecycle.ARCHIVED
    assert lifecycle.state(P(lookup_closed_at=at, archived_at=at, disposed_at=at)) == \
        lifecycle.DISPOSED


def test_retention_runs_from_the_japan_date_of_the_close():
    # 2021-03-31 16:00 UTC is already 1 April in Japan.
    assert lifecycle.retention_ends_on(P(lookup_closed_at=datetime(2021, 3, 31, 16, 0))) == \
        date(2026, 4, 1)
    assert lifecycle.retention_ends_on(P(lookup_closed_at=datetime(2021, 3, 31, 14, 59))) == \
        date(2026, 3, 31)
    assert lifecycle.retention_ends_on(P()) is None      # not closed: no clock running


def test_a_close_on_29_february_ends_on_1_march():
    assert lifecycle.retention_ends_on(P(lookup_closed_at=datetime(2024, 2, 29, 3, 0),
                                         retention_years=5)) == date(2029, 3, 1)


@pytest.mark.parametrize("step", ["archived_at", "disposed_at"])
def test_archived_and_disposed_programmes_are_read_only(step):
    at = datetime(2021, 1, 1)
    programme = P(lookup_closed_at=at, archived_at=at,
                  disposed_at=at if step == "disposed_at" else None)
    with pytest.raises(lifecycle.ProgrammeReadOnly) as refused:
        lifecycle.ensure_writable(programme)
    assert "特別定額給付金" in str(refused.value)

    class Other(Refused):
        pass

    with pytest.raises(Other):
        lifecycle.ensure_writable(programme, Other)
    lifecycle.ensure_writable(P(lookup_closed_at=at))      # closed but not archived: writable
