"""The officer's search fields: dates as staff write them, receipt numbers as the import
reads them, and a specific refusal for anything else."""

from datetime import date

import pytest

from intranet.oversight.filters import FilterRefused, day, in_order, receipt


@pytest.mark.parametrize("typed", ["2026-12-06", "2026/12/6", "2026年12月6日", "令和8年12月6日",
                                   "R8.12.6", "２０２６年１２月６日", "20261206", " 2026-12-06 "])
def test_a_date_in_any_usual_form(typed):
    assert day(typed, "from") == date(2026, 12, 6)


def test_an_empty_date_is_no_bound():
    assert day("", "to") is None and day(None, "to") is None and day("  ", "to") is None


@pytest.mark.parametrize("typed, says", [
    ("2026-02-30", "ありえない日付"), ("きのう", "日付として読めません"),
    ("平成32年1月1日", "元号の期間にない"), ("2026-12-06'; --", "日付として読めません"),
])
def test_a_date_that_cannot_be_read_is_refused_naming_the_field(typed, says):
    with pytest.raises(FilterRefused) as refused:
        day(typed, "to")
    assert refused.value.field == "to" and says in refused.value.message


def test_an_end_before_the_start_is_refused():
    in_order(date(2026, 12, 1), date(2026, 12, 1))
    in_order(None, date(2026, 12, 1))
    with pytest.raises(FilterRefused, match="より後"):
        in_order(date(2026, 12, 2), date(2026, 12, 1))


@pytest.mark.parametrize("typed", ["1234-5678", "１２３４－５６７８", "12345678", "1234 5678",
                                   "1234ー5678"])
def test_a_receipt_number_as_the_import_reads_it(typed):
    assert receipt(typed) == "12345678"


@pytest.mark.parametrize("typed", ["!!", "12", "x" * 40])
def test_a_receipt_number_that_cannot_be_one_is_refused(typed):
    with pytest.raises(FilterRefused) as refused:
        receipt(typed)
    assert refused.value.field == "receipt"
