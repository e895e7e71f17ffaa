"""The usage file from a public host, read as hostile input: every way to break the schema
is refused with its reason, and no refusal repeats a string from the file."""

import json
from datetime import date, timedelta

import pytest

from transfer.usage_counts import (
    MAX_COUNT,
    MAX_SIZE,
    WINDOW_DAYS,
    DayCount,
    UsageRefused,
    encode,
    read,
)

TODAY = date(2026, 12, 6)
PROGRAMMES = frozenset({"tokubetsu-2020", "p2"})


def row(**changes):
    base = {"day": "2026-12-05", "programme": "tokubetsu-2020", "lookups": 10, "found": 7,
            "not_found": 3, "limited": 1}
    return {**base, **changes}


def file_of(*rows, **top):
    return json.dumps({"format": "shinsei-usage-counts", "version": 1, "counts": list(rows),
                       **top}).encode()


def refused(data: bytes) -> str:
    with pytest.raises(UsageRefused) as caught:
        read(data, PROGRAMMES, TODAY)
    return str(caught.value)


def test_what_the_public_host_writes_is_read_back():
    rows = [DayCount(date(2026, 12, 5), "tokubetsu-2020", 10, 7, 3, 1),
            DayCount(date(2026, 12, 6), "p2", 0, 0, 0, 4)]
    assert read(encode(rows), PROGRAMMES, TODAY) == rows
    assert read(file_of(), PROGRAMMES, TODAY) == []


def test_a_huge_file_is_refused_before_it_is_parsed():
    data = file_of(row()) + b" " * MAX_SIZE
    assert "上限" in refused(data) and str(MAX_SIZE) in refused(data)


@pytest.mark.parametrize("name", ["lookups", "found", "not_found", "limited"])
def test_a_negative_count_is_refused(name):
    data = file_of(row(**{name: -1}))
    assert f"{name} が 0 以上" in refused(data)


@pytest.mark.parametrize("value", ["10", None, "", "ten"])
def test_a_count_that_is_not_an_integer_is_refused(value):
    assert "lookups が 0 以上" in refused(file_of(row(lookups=value)))


@pytest.mark.parametrize("text", [b"10.0", b"1e3", b"NaN", b"Infinity", b"-Infinity"])
def test_a_float_or_nan_is_refused(text):
    data = file_of(row()).replace(b'"lookups": 10', b'"lookups": ' + text)
    assert "整数でない数" in refused(data)


def test_a_bool_is_not_a_count():
    assert "limited が 0 以上" in refused(file_of(row(limited=True)))


def test_a_count_above_the_sane_bound_is_refused():
    assert "以下の整数" in refused(file_of(row(limited=MAX_COUNT + 1)))


def test_counts_that_do_not_add_up_are_refused():
    assert "和が lookups と合いません" in refused(file_of(row(found=8)))


def test_an_extra_field_in_a_row_is_refused():
    assert "余分: 1 個" in refused(file_of(row(address="x")))


def test_an_extra_field_at_the_top_is_refused():
    assert "3 つちょうど" in refused(file_of(row(), comment="x"))


def test_a_missing_field_is_refused():
    incomplete = row()
    del incomplete["limited"]
    assert "不足: limited" in refused(file_of(incomplete))


@pytest.mark.parametrize("where", ["value", "key", "programme", "day", "format", "list"])
def test_a_receipt_number_like_string_anywhere_is_refused_and_not_repeated(where):
    number = "1000-0001"
    data = {
        "value": file_of(row(limited=number)),
        "key": file_of({**row(), number: 1}),
        "programme": file_of(row(programme=number)),
        "day": file_of(row(day="2026-12-05 " + number)),
        "format": json.dumps({"format": number, "version": 1, "counts": []}).encode(),
        "list": file_of(row(), [number]),
    }[where]
    reason = refused(data)
    assert "受付番号と読める文字列" in reason
    assert number not in reason and "10000001" not in reason


def test_a_full_width_receipt_number_is_refused_too():
    assert "受付番号と読める" in refused(file_of(row(programme="１０００－０００１")))


def test_a_future_day_is_refused():
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert "未来の日付" in refused(file_of(row(day=tomorrow)))


def test_a_day_before_the_window_is_refused():
    old = (TODAY - timedelta(days=WINDOW_DAYS + 1)).isoformat()
    assert f"{WINDOW_DAYS} 日より前" in refused(file_of(row(day=old)))


@pytest.mark.parametrize("day", ["2026-02-30", "2026/12/05", "yesterday", 20261205])
def test_a_day_that_is_no_iso_date_is_refused(day):
    assert "day が" in refused(file_of(row(day=day)))


def test_an_unknown_programme_is_refused_without_repeating_it():
    reason = refused(file_of(row(programme="zz")))
    assert "登録されている事業コードではありません" in reason and "zz" not in reason


def test_duplicate_keys_are_refused():
    data = file_of(row()).replace(b'"limited": 1', b'"limited": 1, "limited": 0')
    assert "同じ項目名" in refused(data)


def test_the_same_day_and_programme_twice_is_refused():
    assert "同じ日・同じ事業" in refused(file_of(row(), row()))


@pytest.mark.parametrize("opening", [b"[", b"{\"a\":"])
def test_deeply_nested_json_is_refused_without_recursing(opening):
    data = opening * 10000
    assert "入れ子" in refused(data)


def test_a_nested_value_inside_a_row_is_refused():
    assert "入れ子" in refused(file_of(row(limited=[[1]])))


def test_not_utf8_and_not_json_are_refused():
    assert "UTF-8 ではありません" in refused(b"\xff\xfe{}")
    assert "JSON として読めません" in refused(b"{\"format\": ")
    assert "3 つちょうど" in refused(b"[]")


def test_another_format_or_version_is_refused():
    assert "format が" in refused(json.dumps(
        {"format": "shinsei-usage-counts", "version": 2, "counts": []}).encode())
    assert "format が" in refused(json.dumps(
        {"format": "other", "version": 1, "counts": []}).encode())
