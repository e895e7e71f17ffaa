"""A programme whose lookup is closed leaves the snapshot body; its header entry says the
lookup has ended, whom to contact, and (for mirrors that do not know those keys) ends the
period on the closing day."""

from datetime import timedelta

import transaction

from intranet.db import get_tm_session
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme
from tests.conftest import TEST_ACTOR
from tests.integration.test_snapshot_build import (  # noqa: F401  (populated: a fixture)
    NOW,
    ORIGIN,
    PEOPLE,
    SECRET,
    build,
    populated,
)
from tests.unit.transfer.snapshots import new_key
from transfer.lookup import lookup_key
from transfer.verify import TrustPolicy, verify_snapshot


def close(session_factory, code, contact):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = dbsession.query(Programme).filter_by(code=code).one()
        programme.contact = contact
        lifecycle.close_lookup(dbsession, TEST_ACTOR, programme)
        return lifecycle.japan_date(programme.lookup_closed_at)


def test_a_closed_programme_carries_no_entries_and_says_the_lookup_ended(populated):  # noqa: F811
    closed_on = close(populated, "p2020", "福祉課 0120-111-222")
    key = new_key()
    snapshot = verify_snapshot(build(populated, key).data, TrustPolicy([key.public_key], ORIGIN),
                               last_sequence=99, now=NOW)
    assert snapshot.table.count == len(PEOPLE)          # only the open programme's
    for number, *_ in PEOPLE:
        assert snapshot.table.find(lookup_key(SECRET, "p2020", number)) is None
    header = {p["code"]: p for p in snapshot.header["programmes"]}
    assert header["p2020"]["lookup_ended"] is True
    assert header["p2020"]["contact"] == "福祉課 0120-111-222"
    assert header["p2020"]["lookup_closes_on"] == closed_on.isoformat()
    assert "lookup_ended" not in header["p2024"]


def test_the_closing_day_never_moves_a_period_later(populated):  # noqa: F811
    with transaction.manager:
        dbsession = get_tm_session(populated, transaction.manager)
        programme = dbsession.query(Programme).filter_by(code="p2020").one()
        programme.lookup_closes_on = lifecycle.japan_date(NOW.replace(tzinfo=None)) - timedelta(
            days=400)
        earlier = programme.lookup_closes_on
    close(populated, "p2020", "")
    key = new_key()
    snapshot = verify_snapshot(build(populated, key).data, TrustPolicy([key.public_key], ORIGIN),
                               last_sequence=99, now=NOW)
    header = {p["code"]: p for p in snapshot.header["programmes"]}
    assert header["p2020"]["lookup_closes_on"] == earlier.isoformat()
