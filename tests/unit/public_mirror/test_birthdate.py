"""Birth dates as residents write them: eras, 元年, 2-digit years, impossible days."""

from datetime import date

import pytest

from public_mirror import birthdate

TODAY = date(2026, 11, 26)


def read(**fields):
    params = {f"birth_{name}": value for name, value in fields.items()}
    return birthdate.read(params, lambda p, name: p.get(name, ""), TODAY)


@pytest.mark.parametrize("era, year, month, day, expected", [
    ("showa", "55", "4", "1", date(1980, 4, 1)),
    ("showa", "64", "1", "7", date(1989, 1, 7)),
    ("heisei", "元", "1", "8", date(1989, 1, 8)),
    ("heisei", "元年", "1月", "8日", date(1989, 1, 8)),
    ("heisei", "31", "4", "30", date(2019, 4, 30)),
    ("reiwa", "1", "5", "1", date(2019, 5, 1)),
    ("taisho", "15", "12", "24", date(1926, 12, 24)),
    ("western", "１９８０", "４", "０１", date(1980, 4, 1)),
    ("", "1980", "4", "1", date(1980, 4, 1)),   # 4 digits with no era: plainly 西暦
])
def test_dates_residents_write(era, year, month, day, expected):
    assert read(era=era, year=year, month=month, day=day) == (expected, None)


def test_a_two_digit_western_year_says_to_type_four_digits():
    _, problem = read(era="western", year="92", month="4", day="1")
    assert problem == birthdate.SHORT_WESTERN and "4けた" in problem


def test_a_two_digit_year_without_an_era_asks_for_the_era():
    _, problem = read(era="", year="55", month="4", day="1")
    assert problem == birthdate.NO_ERA


@pytest.mark.parametrize("era, year, month, day, msgid, mapping", [
    ("showa", "70", "1", "1", birthdate.ERA_YEAR, {"last_year": 64}),
    ("heisei", "31", "5", "1", birthdate.NOT_IN_ERA,
     {"first": date(1989, 1, 8), "last": date(2019, 4, 30)}),
    ("showa", "1", "1", "1", birthdate.NOT_IN_ERA,
     {"first": date(1926, 12, 25), "last": date(1989, 1, 7)}),
    ("reiwa", "1", "4", "30", birthdate.NOT_IN_ERA_YET, {"first": date(2019, 5, 1)}),
    ("western", "1980", "2", "30", birthdate.NO_SUCH_DAY, {"month": 2, "day": 30}),
    ("western", "1980", "13", "1", birthdate.NO_SUCH_DAY, {"month": 13, "day": 1}),
    ("western", "1092", "4", "1", birthdate.TOO_OLD, {"year": 1092}),
])
def test_dates_that_cannot_be_meant_say_why(era, year, month, day, msgid, mapping):
    birth, problem = read(era=era, year=year, month=month, day=day)
    assert birth is None and str(problem) == msgid
    assert mapping.items() <= problem.mapping.items()


@pytest.mark.parametrize("fields, problem", [
    ({}, birthdate.MISSING),
    ({"era": "showa", "year": "55"}, birthdate.INCOMPLETE),
    ({"era": "showa", "year": "五十五", "month": "4", "day": "1"}, birthdate.NOT_DIGITS),
    ({"era": "showa", "year": "55", "month": "100", "day": "1"}, birthdate.NOT_DIGITS),
    ({"era": "western", "year": "2027", "month": "1", "day": "1"}, birthdate.IN_FUTURE),
    ({"era": "made-up", "year": "55", "month": "4", "day": "1"}, birthdate.NO_ERA),
])
def test_incomplete_or_odd_input(fields, problem):
    assert read(**fields) == (None, problem)


def test_the_api_may_send_an_iso_date():
    params = {"birth_date": "1980-04-01"}
    assert birthdate.read(params, lambda p, n: p.get(n, ""), TODAY) == (date(1980, 4, 1), None)
