"""The catalogue's rules for one status change, without a database."""

from datetime import date

import pytest

from intranet.applications.errors import StatusChangeRefused
from intranet.applications.services import StatusUpdate, check_update
from intranet.statuses.defaults import default_catalogue


@pytest.fixture(scope="module")
def catalogue():
    return {status.code: status for status in default_catalogue()}


def test_allowed_move(catalogue):
    check_update(catalogue, "received", StatusUpdate("reviewing"))


@pytest.mark.parametrize("final", ["paid", "withdrawn", "duplicate", "rejected"])
def test_final_statuses_go_nowhere(catalogue, final):
    assert catalogue[final].is_final and not catalogue[final].allowed_next
    with pytest.raises(StatusChangeRefused):
        check_update(catalogue, final, StatusUpdate("reviewing"))


def test_dates_the_status_needs(catalogue):
    with pytest.raises(StatusChangeRefused):
        check_update(catalogue, "approved", StatusUpdate("payment_scheduled"))
    check_update(catalogue, "approved", StatusUpdate("payment_scheduled",
                                                     scheduled_payment_on=date(2020, 7, 1)))
    with pytest.raises(StatusChangeRefused):
        check_update(catalogue, "payment_scheduled", StatusUpdate("paid"))


def test_unknown_status(catalogue):
    with pytest.raises(StatusChangeRefused) as refused:
        check_update(catalogue, None, StatusUpdate("nope"))
    assert refused.value.mapping == {"code": "nope"}


def test_every_status_has_wording_in_every_resident_language(catalogue):
    for status in catalogue.values():
        assert {w.lang for w in status.wordings} == {"ja", "en", "ja-easy"}
        assert all(w.resident_label and w.explanation and w.next_step for w in status.wordings)
