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
