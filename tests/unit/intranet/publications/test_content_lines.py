"""intranet.publications.content.lines: the fast writing of the digest's lines gives the
same text, byte for byte, as the defining ``content_line`` — on every kind of value."""

import random
from datetime import date

import pytest

from intranet.publications.content import _JsonTexts, content_line, lines

# A frozen row without action details: no kinds, no documents sent, no deadline.
NONE = (None, None, None)


def defined(rows):
    return "".join(content_line(row) + "\n" for row in rows)


def test_no_rows_no_text():
    assert lines([]) == defined([]) == ""


def test_one_row_with_every_kind_of_value():
    row = ("tokubetsu-2020", "00001234", date(1980, 4, 1), "paid", date(2020, 7, 1),
           date(2020, 7, 1), *NONE)
    assert lines([row]) == defined([row]) == (
        '["tokubetsu-2020","00001234","1980-04-01","paid","2020-07-01","2020-07-01"]\n')


def test_empty_values_are_null():
    row = ("p", "A1", None, "received", None, None, *NONE)
    assert lines([row]) == defined([row]) == '["p","A1",null,"received",null,null]\n'


@pytest.mark.parametrize("receipt", [
    'AB"12', "AB\\12", "AB\n12", "AB\x0012", "AB\x1f12", "AB\t12",   # JSON escapes these
    "ＡＢ１２", "申請１２３", "AB\u202812", "AB\x7f12", "🎌12", "",       # and not these
])
def test_a_receipt_number_of_any_text_is_written_as_defined(receipt):
    rows = [("p2020", "00000001", None, "received", None, None, *NONE),
            ("p2020", receipt, None, "received", None, None, *NONE),
            ("p2020", "00000003", None, "deficient", None, None, 5, None, date(2026, 6, 10))]
    assert lines(rows) == defined(rows)


@pytest.mark.parametrize("code", ['p"1', "p\\1", "給付金", "p\n"])
def test_codes_and_statuses_of_any_text_are_written_as_defined(code):
    rows = [(code, "00000001", None, code, None, None, *NONE),
            ("p", "00000002", None, "x", None, None, *NONE)]
    assert lines(rows) == defined(rows)


def test_values_that_are_not_text_go_the_defining_way():
    # The columns are text and dates; whatever else a driver could hand back is still
    # written as str() makes it, as the definition does.
    rows = [("p", 12345678, None, "received", None, None, *NONE),
            ("p", "1", 7, "x", 1.5, True, *NONE)]
    assert lines(rows) == defined(rows)


def test_a_date_and_its_text_share_nothing_but_their_line():
    texts = _JsonTexts()
    rows = [("p", "1", date(2020, 1, 2), "s", "2020-01-02", None, *NONE),
            ("p", "2", "2020-01-02", "s", date(2020, 1, 2), None, *NONE)]
    assert lines(rows, texts) == defined(rows)
    assert texts[date(2020, 1, 2)] == texts["2020-01-02"] == '"2020-01-02"'


def test_many_programmes_and_a_shared_cache_across_chunks():
    rng = random.Random(16)
    programmes = ["tokubetsu-2020", "bukka-2024", "p_3", "P-4", "x"]
    statuses = ["received", "reviewing", "payment_scheduled", "paid", "deficient"]
    days = [None, *(date(2020, 1, 1).replace(day=1 + n) for n in range(28))]
    rows = [(rng.choice(programmes), f"{n:08d}" if n % 7 else f"A{n:07d}",
             rng.choice(days), rng.choice(statuses), rng.choice(days), rng.choice(days),
             *((rng.choice([None, 1, 5, 1 << 31]), rng.choice(days), rng.choice(days))
               if n % 3 == 0 else NONE))
            for n in range(5_000)]
    texts = _JsonTexts()
    chunks = [rows[i:i + 777] for i in range(0, len(rows), 777)]
    assert "".join(lines(chunk, texts) for chunk in chunks) == defined(rows)


def test_a_row_without_action_details_reads_as_rows_did_before_them():
    """A request frozen before the upgrade reproduces its digest after it."""
    row = ("p", "A1", None, "received", None, None, *NONE)
    assert lines([row]) == content_line(row) + "\n" == '["p","A1",null,"received",null,null]\n'
    acting = ("p", "A1", None, "deficient", None, None, 5, date(2026, 5, 20), None)
    assert lines([acting]) == defined([acting]) == (
        '["p","A1",null,"deficient",null,null,"5","2026-05-20",null]\n')
