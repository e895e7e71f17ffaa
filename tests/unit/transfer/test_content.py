"""The verifier's last step: a validly signed snapshot whose content the page cannot show
is refused (issue 12, break 9)."""

import pytest

from tests.unit.transfer.snapshots import entries, make, new_key, policy
from transfer import errors
from transfer.verify import verify_snapshot

KEY = new_key()
PROGRAMME = {"code": "p2020", "name": {"ja": "給付金"}, "needs_birth_date": False,
             "lookup_opens_on": None, "lookup_closes_on": None}


def verify(data):
    # now=None: the expiry check is the verifier's, not the content's (see below).
    return verify_snapshot(data, policy(KEY), last_sequence=None, now=None)


@pytest.mark.parametrize("fields, problem", [
    ({"created_at": "garbage"}, "bad timestamp"),
    ({"expires_at": "2026-05-01T00:00:00Z"}, "not after created_at"),
    ({"programmes": []}, "no programme"),
    ({"programmes": ["p2020"]}, "not an object"),
    ({"programmes": [{**PROGRAMME, "code": "給付"}]}, "code"),
    ({"programmes": [PROGRAMME, PROGRAMME]}, "repeated"),
    ({"programmes": [{**PROGRAMME, "name": "給付金"}]}, "no Japanese name"),
    ({"programmes": [{**PROGRAMME, "needs_birth_date": "yes"}]}, "needs_birth_date"),
    ({"programmes": [{**PROGRAMME, "lookup_closes_on": "someday"}]}, "not a date"),
    ({"statuses": [{"code": "received", "dates": [], "wording": {"ja": "受付"}}]},
     "not the expected texts"),
    ({"statuses": [{"code": "received", "dates": ["tomorrow"], "wording": {}}]}, "dates"),
    ({"statuses": [{"code": None, "dates": [], "wording": {}}]}, "code"),
])
def test_malformed_header_content_is_refused(fields, problem):
    with pytest.raises(errors.MalformedSnapshot, match=problem):
        verify(make([KEY], **fields))


def test_status_index_past_the_catalogue_is_refused():
    with pytest.raises(errors.InvalidEntries, match="status index 3"):
        verify(make([KEY], rows=entries(status=3)))


def test_well_formed_content_verifies():
    assert verify(make([KEY], rows=entries(status=2))).table.count == 50
