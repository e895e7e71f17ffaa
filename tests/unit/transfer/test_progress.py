"""Counting what residents may know while the rows stream through: shares, and no small counts."""

from types import SimpleNamespace as Thing

from transfer.progress import ProgrammeTally

STATUSES = [Thing(code="received", needs_paid_date=False), Thing(code="paid", needs_paid_date=True)]
PROGRAMMES = [Thing(id=1, code="big"), Thing(id=2, code="small"), Thing(id=3, code="none")]


def test_shares_digits_and_suppression():
    rows = [(1, f"{n:08d}", None, "paid" if n % 4 else "received", None, None) for n in range(200)]
    rows += [(2, "A0000001", None, "paid", None, None), (2, "00000002", None, "received", None, None)]
    tally = ProgrammeTally(rows, STATUSES)
    assert list(tally) == rows   # every row passes through, in order
    header = {"programmes": [{"code": "big"}, {"code": "small"}, {"code": "none"}]}
    big, small, none = tally.add_to(header, PROGRAMMES, threshold=100)["programmes"]
    assert big == {"code": "big", "receipt_digits_only": True,
                   "progress": {"applications": 200, "paid": 150}}
    assert small == {"code": "small", "receipt_digits_only": False, "progress": None}
    assert none == {"code": "none", "receipt_digits_only": False, "progress": None}
