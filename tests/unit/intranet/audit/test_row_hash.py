"""The full check's quick hash (``chain.row_hash``) is the writer's ``record_hash``: the
same text hashed for every value the database can return, so every stored hash verifies
as before; for anything else it steps aside and ``record_hash`` judges."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from intranet.audit.chain import COLUMNS, GENESIS_HASH, record_hash, row_hash, walk

# Any text a column can hold: control characters, quotes, backslashes, every plane.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
TIMES = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))


def row_of(seq, at, texts, prev_hash="0" * 64):
    return (seq, at, *texts, prev_hash)


def reference(row):
    return record_hash(SimpleNamespace(**dict(zip(COLUMNS[:10], row, strict=True))))


@settings(max_examples=400)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), TIMES,
       st.lists(TEXT, min_size=7, max_size=7), TEXT)
@example(1, datetime(2026, 1, 5), ["staff", "staff", "", "10.0.0.1", "application.status",
                                   "application:1", '{"to":"reviewing","reason":"a\\"b\\n"}'],
         GENESIS_HASH)
@example(7, datetime(999, 1, 1, 0, 0, 0, 0), ['"', "\\", "\x00\x1f\x7f", "\u2028\u2029",
                                              "髙橋　翔太", "\n\r\t\b\f", "😀"], "")
def test_the_quick_hash_is_the_writers(seq, at, texts, prev_hash):
    row = row_of(seq, at, texts, prev_hash)
    assert row_hash(row) == reference(row)


def test_times_with_and_without_microseconds():
    for micro in (0, 1, 999_999, 500_000):
        row = row_of(3, datetime(2026, 11, 27, 0, 0, 0, micro), ["a"] * 7)
        assert row_hash(row) == reference(row)


def test_other_shapes_step_aside_and_are_judged_by_the_writers_hash():
    plain = row_of(3, datetime(2026, 1, 5), ["a"] * 7)
    odd = [
        row_of(3.0, plain[1], plain[2:9]),            # "3.0" in the writer's JSON
        row_of(True, plain[1], plain[2:9]),           # "true"
        row_of(3, plain[1].replace(tzinfo=UTC), plain[2:9]),
        row_of(3, "2026-01-05 00:00:00", plain[2:9]),
        row_of(3, plain[1], [None, *plain[3:9]]),
        row_of(3, plain[1], [b"bytes", *plain[3:9]]),
        row_of(3, plain[1], ["\ud800", *plain[3:9]]),  # a lone surrogate cannot be UTF-8
    ]
    for row in odd:
        assert row_hash(row) is None


def test_a_walk_judges_odd_rows_as_the_writers_hash_does():
    """A row the quick hash steps aside for is still accepted when the writer's hash of it
    is the stored one, and refused when it is not."""
    at = datetime(2026, 1, 5, tzinfo=UTC)   # an aware time: the writer formats it with strftime
    row = row_of(1, at, ["a"] * 7, GENESIS_HASH)
    good = (*row, reference(row))
    assert walk([good], 1, GENESIS_HASH, [], None).error is None
    bad = (*row_of(1, at + timedelta(seconds=1), ["a"] * 7, GENESIS_HASH), reference(row))
    assert "contents do not match" in walk([bad], 1, GENESIS_HASH, [], None).error.reason
