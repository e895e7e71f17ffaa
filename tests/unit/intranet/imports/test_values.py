"""The import's fast cell readers give exactly what parse_cell gives: the same value, or a
CellError with the same message and values, for every field and every kind of cell —
remembered cells, plain text and ASCII receipt numbers included."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intranet.imports import values
from intranet.imports.columns import FIELDS
from intranet.imports.values import CellError, cell_reader, parse_cell

STATUSES = {"受付済": "received", "received": "received", "審査中": "reviewing",
            "不備あり(書類返送)": "deficient"}


def outcome(read, raw):
    try:
        return "value", read(raw)
    except CellError as error:
        return "error", error.message, error.mapping


def plain(field):
    return lambda raw: parse_cell(field, raw, STATUSES)


def same(field, cells):
    fast = cell_reader(field, STATUSES)
    for raw in cells:
        # Twice: the second reading of a remembered cell is the one that differs in code.
        assert outcome(fast, raw) == outcome(plain(field), raw), (field, raw)
        assert outcome(fast, raw) == outcome(plain(field), raw), (field, raw)


EDGES = [
    "", " ", "　", "12345678", "1234-5678", " 1234 5678 ", "１２３４－５６７９", "ab12", "AB-12",
    "123", "1" * 32, "1" * 33, "12\x1c34\x1f56", "12\t34", "1234‐5678", "1234ー5678",
    "=1+1", "+81-42", "-1234", "@SUM(A1)", "'=1+1", "'-42", "'abc", "＝1", "－1234", "−5",
    "\t1234", "令和2年6月1日", "R2.6.1", "令和2年2月30日", "H31.5.1", "2020/6/1", "20200601",
    "1899/12/31", "2500/1/1", "きのう", "受付済", " 受付済 ", "ｒｅｃｅｉｖｅｄ", "審査中",
    "不備あり　（書類返送）", "完了", "郵送", "オンライン", "online", "fax", "㈱テスト", "髙橋　太郎",
    "x" * 200, "x" * 201, "x" * 2000, "x" * 2001, "042-000-0000", "+81 42 000 0000",
]


@pytest.mark.parametrize("field", list(FIELDS))
def test_every_field_reads_the_edge_cases_as_parse_cell_does(field):
    same(field, EDGES)


# Text built from what receipt numbers, dates and formulas are made of: ASCII (every
# character, control ones included), full-width forms, dashes and Japanese.
CELL_TEXT = st.text(st.one_of(st.characters(max_codepoint=0x7F),
                              st.sampled_from("０１２３４５６７８９ＡＢａｂ－ー‐―−　令和平成年月日元'＝＋")),
                    max_size=40)


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(list(FIELDS)), cells=st.lists(CELL_TEXT, max_size=8))
def test_any_cell_reads_as_parse_cell_reads_it(field, cells):
    same(field, cells)


def test_remembered_cells_are_read_right_past_the_bound(monkeypatch):
    """More distinct dates than are remembered: the memory starts again, values stay right."""
    monkeypatch.setattr(values, "_MEMO_LIMIT", 3)
    cells = [f"2020/{m}/{d}" for m in range(1, 4) for d in (1, 15, 31)] * 2 + ["2020/2/30"] * 3
    same("received_on", cells)


def test_a_refused_cell_is_refused_every_time_with_a_fresh_error():
    read = cell_reader("received_on", STATUSES)
    errors = []
    for _ in range(3):
        with pytest.raises(CellError) as raised:
            read("令和2年2月30日")
        errors.append(raised.value)
    assert len({id(e) for e in errors}) == 3
    assert {e.message for e in errors} == {"存在しない日付です。"}


@pytest.mark.parametrize("field", ["receipt_number", "birth_date", "received_on",
                                   "scheduled_payment_on", "paid_on", "status", "route"])
@pytest.mark.parametrize("raw", ["'=1+1", "'-42", "'@SUM(A1)", "'+2020/6/1"])
def test_an_export_neutralised_cell_in_a_typed_column_is_refused_not_stored_as_text(field, raw):
    """An apostrophe before = + - @ is how an export keeps a text cell from running as a
    formula; no number, date, status or route is written so — it is refused as a formula."""
    for read in (plain(field), cell_reader(field, STATUSES)):
        with pytest.raises(CellError, match="数式のように見える値"):
            read(raw)


@pytest.mark.parametrize("field", ["name", "phone", "notes"])
def test_an_export_neutralised_text_cell_reads_back_as_the_text(field):
    assert parse_cell(field, "'-42", STATUSES) == "-42"
