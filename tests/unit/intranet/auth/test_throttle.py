"""Guessing is held back per (name, address), doubling, capped, and keyed by a hash."""

from datetime import datetime, timedelta

import pytest

from intranet.auth import throttle
from intranet.auth.models import LoginThrottle

SETTINGS = {"login.max_failures": 3, "login.max_delay_seconds": 60}
T0 = datetime(2026, 11, 26, 9, 0, 0)


@pytest.fixture
def rows(dbsession):
    return dbsession


def test_free_failures_then_doubling_waits_up_to_the_cap(rows):
    key = throttle.name_hash("secret", "staff")
    waits = []
    for _ in range(10):
        throttle.record_failure(rows, key, "192.0.2.1", T0, SETTINGS)
        waits.append(throttle.wait_seconds(rows, key, "192.0.2.1", T0))
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert throttle.wait_seconds(rows, key, "192.0.2.1", T0 + timedelta(seconds=61)) == 0


def test_other_addresses_and_names_are_not_held(rows):
    key = throttle.name_hash("secret", "staff")
    for _ in range(5):
        throttle.record_failure(rows, key, "192.0.2.1", T0, SETTINGS)
    assert throttle.wait_seconds(rows, key, "192.0.2.2", T0) == 0
    assert throttle.wait_seconds(rows, throttle.name_hash("secret", "admin"), "192.0.2.1", T0) == 0


def test_the_name_is_stored_only_as_a_keyed_hash_of_its_folded_form():
    typed = "my secret password"
    key = throttle.name_hash("server secret", typed)
    assert typed not in key and len(key) == 64
    assert key == throttle.name_hash("server secret", "ＭＹ SECRET PASSWORD")
    assert key != throttle.name_hash("another secret", typed)
    assert LoginThrottle.__table__.c.name_hash is not None
