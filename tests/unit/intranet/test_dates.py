"""西暦 and 和暦 dates as municipal files write them."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intranet.dates import ERAS, DateError, parse_date, wareki


@pytest.mark.parametrize("text, expected", [
    ("2020/6/1", date(2020, 6, 1)), ("2020-06-01", date(2020, 6, 1)), ("20200601", date(2020, 6, 1)),
    ("２０２０年６月１日", date(2020, 6, 1)), ("令和2年6月1日", date(2020, 6, 1)),
    ("R2.6.1", date(2020, 6, 1)), ("R02/06/01", date(2020, 6, 1)), ("r2.6.1", date(2020, 6, 1)),
    ("令和元年5月1日", date(2019, 5, 1)), ("H31.4.30", date(2019, 4, 30)),
    ("平成31年4月30日", date(2019, 4, 30)), ("S55.1.1", date(1980, 1, 1)),
    ("昭和64年1月7日", date(1989, 1, 7)), ("H1.1.8", date(1989, 1, 8)),
])
def test_accepted_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["令和2年2月30日", "2020/13/1", "H31.5.1", "令和元年4月30日",
                                  "昭和64年1月8日", "R2/6", "きのう", "", "2020/6/1 10:00"])
def test_refused(text):
    with pytest.raises(DateError):
        parse_date(text)


@given(st.dates(min_value=date(1926, 12, 25), max_value=date(2100, 12, 31)))
def test_every_date_round_trips_through_its_era(day):
    era = next(name for name, (first, last) in ERAS.items()
               if first <= day and (last is None or day <= last))
    year = day.year - ERAS[era][0].year + 1
    written = f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    assert parse_date(written) == day
    assert parse_date(day.strftime("%Y/%m/%d")) == day == parse_date(day.strftime("%Y%m%d"))


@pytest.mark.parametrize("text, expected", [
    ("しょうわ55年4月1日", date(1980, 4, 1)), ("ショウワ55年4月1日", date(1980, 4, 1)),
    ("へいせい元年1月8日", date(1989, 1, 8)), ("昭和 55年 4月 1日", date(1980, 4, 1)),
    ("昭和５５年４月１日生まれ", date(1980, 4, 1)), ("S55.4.1生", date(1980, 4, 1)),
    ("れいわ2ねん", None),
])
def test_as_the_call_centre_types_what_a_caller_says(text, expected):
    if expected is None:
        with pytest.raises(DateError):
            parse_date(text)
    else:
        assert parse_date(text) == expected


@pytest.mark.parametrize("day, written", [
    (date(1980, 4, 1), "昭和55年4月1日"), (date(2019, 5, 1), "令和元年5月1日"),
    (date(2019, 4, 30), "平成31年4月30日"), (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1926, 12, 25), "昭和元年12月25日"), (date(1920, 1, 1), "大正9年1月1日"),
])
def test_a_date_read_back_in_its_era(day, written):
    assert wareki(day) == written and parse_date(written) == day
