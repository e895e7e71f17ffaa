"""Plausibility bounds for stored dates."""

from datetime import date

import pytest

from intranet.plausible_dates import ImplausibleDate, check

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(("field", "value"), [
    ("received_on", date(2500, 1, 1)), ("paid_on", date(2500, 1, 1)),
    ("received_on", date(1999, 12, 31)), ("birth_date", date(1899, 12, 31)),
    ("birth_date", date(2026, 11, 27)), ("scheduled_payment_on", date(2029, 1, 1)),
])
def test_out_of_range_dates_are_refused_with_the_range(field, value):
    with pytest.raises(ImplausibleDate) as refused:
        check(field, value, TODAY)
    assert refused.value.mapping["latest"] >= "2026-11-26"


@pytest.mark.parametrize(("field", "value"), [
    ("received_on", date(2020, 6, 1)), ("birth_date", date(1920, 1, 1)),
    ("scheduled_payment_on", date(2027, 3, 31)), ("paid_on", TODAY), ("notes", date(2500, 1, 1)),
])
def test_plausible_dates_pass(field, value):
    assert check(field, value, TODAY) == value


@pytest.mark.parametrize("typed", ["20200601", "2020-W23-1", "２０２０-０６-０１", "2020-02-30",
                                   "2020-6-1", "2020/06/01", "2020-06-01T00:00", "R2-06-01"])
def test_a_form_date_is_yyyy_mm_dd_only(typed):
    from intranet.plausible_dates import FORMAT, UnreadableDate, from_form

    with pytest.raises(UnreadableDate) as refused:
        from_form("paid_on", typed, TODAY)
    assert refused.value.field == "paid_on" and str(refused.value) == FORMAT


def test_a_form_date_is_read_then_checked_for_its_field():
    from intranet.plausible_dates import from_form

    assert from_form("paid_on", " 2026-11-01 ", TODAY) == date(2026, 11, 1)
    assert from_form("paid_on", "", TODAY) is None and from_form("paid_on", None) is None
    with pytest.raises(ImplausibleDate):
        from_form("paid_on", "2500-01-01", TODAY)
