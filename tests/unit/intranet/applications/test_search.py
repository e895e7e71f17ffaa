"""Search criteria and keyset cursors."""

import base64
import json
from datetime import date

import pytest
from webob.multidict import MultiDict

from intranet.applications.models import Application
from intranet.applications.search import decode_cursor, encode_cursor, parse_criteria
from intranet.web import BadInput


def test_criteria_normalise_what_staff_type():
    criteria = parse_criteria(MultiDict({"receipt": "１２３４－５６７８", "name": "ﾔﾏﾀﾞ",
                                         "from": "2020-06-01", "to": "bad"}))
    assert criteria.receipt == "12345678" and criteria.name == "ヤマダ"
    assert criteria.received_from == date(2020, 6, 1) and criteria.errors == ["to"]
    assert criteria.sort == "received" and criteria.descending


@pytest.mark.parametrize("params", [{"sort": "evil"}, {"dir": "up"}, {"programme": "abc"},
                                    {"programme": "²"}, {"programme": str(2**63)}])
def test_values_no_link_of_ours_sends_are_refused(params):
    with pytest.raises(BadInput) as refused:
        parse_criteria(MultiDict(params))
    assert refused.value.mapping == {"field": next(iter(params))}


def test_a_cursor_naming_an_id_past_bigint_is_ignored():
    cursor = base64.urlsafe_b64encode(json.dumps(["2020-06-01", 2**63]).encode()).decode()
    assert decode_cursor("received", cursor) is None


def test_cursor_round_trip():
    application = Application(id=42, received_on=date(2020, 6, 1))
    cursor = encode_cursor("received", application)
    assert decode_cursor("received", cursor) == (date(2020, 6, 1), 42)


def test_garbage_cursor_is_ignored():
    assert decode_cursor("received", "%%%") is None
    assert decode_cursor("received", "WyJ4IiwgMV0") is None   # ["x", 1]: not a date
