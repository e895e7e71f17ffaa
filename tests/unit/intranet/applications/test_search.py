"""Search criteria and keyset cursors."""

from datetime import date

from webob.multidict import MultiDict

from intranet.applications.models import Application
from intranet.applications.search import decode_cursor, encode_cursor, parse_criteria


def test_criteria_normalise_what_staff_type():
    criteria = parse_criteria(MultiDict({"receipt": "１２３４－５６７８", "name": "ﾔﾏﾀﾞ",
                                         "from": "2020-06-01", "to": "bad", "sort": "evil"}))
    assert criteria.receipt == "12345678" and criteria.name == "ヤマダ"
    assert criteria.received_from == date(2020, 6, 1) and criteria.errors == ["to"]
    assert criteria.sort == "received"


def test_cursor_round_trip():
    application = Application(id=42, received_on=date(2020, 6, 1))
    cursor = encode_cursor("received", application)
    assert decode_cursor("received", cursor) == (date(2020, 6, 1), 42)


def test_garbage_cursor_is_ignored():
    assert decode_cursor("received", "%%%") is None
    assert decode_cursor("received", "WyJ4IiwgMV0") is None   # ["x", 1]: not a date
