"""Today in Japan, kept from one midnight to the next: the same date as converting each time."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from public_mirror import lookup

MIDNIGHT_IN_JAPAN = datetime(2026, 11, 26, 15, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("offsets", [
    (-1, -0.001, 0, 0.001, 3600, 86399.999, 86400),     # forwards across two midnights
    (86400, 1, -1, -86401, 0),                         # the clock set back
])
def test_the_kept_day_is_the_converted_day(monkeypatch, offsets):
    for offset in offsets:
        moment = MIDNIGHT_IN_JAPAN + offset
        monkeypatch.setattr(time, "time", lambda moment=moment: moment)
        expected = datetime.fromtimestamp(moment, UTC).astimezone(lookup.JST).date()
        assert lookup.today_in_japan() == expected, offset


def test_a_given_moment_is_converted():
    moment = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    assert lookup.today_in_japan(moment) == (moment + timedelta(hours=9)).date()
