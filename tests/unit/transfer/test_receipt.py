"""The one receipt-number normaliser, used by the intranet and the public side alike."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transfer.receipt import (
    DASHES,
    InvalidReceiptNumber,
    normalise_receipt_number,
    parse_receipt_number,
)


@pytest.mark.parametrize("dash", list(DASHES))
def test_every_dash_is_stripped(dash):
    assert normalise_receipt_number(f"1234{dash}5678") == "12345678"


@pytest.mark.parametrize("typed, expected", [
    ("１２３４５６７８", "12345678"),
    ("　1234 5678\t", "12345678"),
    ("ab-0012", "AB0012"),
    ("ＡＢ０１２３", "AB0123"),
    ("00001234", "00001234"),   # leading zeros are part of the number
])
def test_widths_spaces_and_case(typed, expected):
    assert normalise_receipt_number(typed) == expected


@pytest.mark.parametrize("text", ["", "12", "これは番号", "1234/5678", "x" * 40])
def test_impossible_numbers_are_refused(text):
    with pytest.raises(InvalidReceiptNumber):
        parse_receipt_number(text)


@given(st.text())
def test_normalising_is_idempotent(text):
    once = normalise_receipt_number(text)
    assert normalise_receipt_number(once) == once


@given(st.text(alphabet="0123456789", min_size=4, max_size=20),
       st.lists(st.sampled_from([*DASHES, " ", "\u3000"]), max_size=4))
def test_any_width_and_dash_gives_the_same_number(digits, noise):
    decorated = unicodedata.normalize("NFKC", digits)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in digits)
    for i, piece in enumerate(noise):
        wide = wide[: i + 1] + piece + wide[i + 1:]
    assert parse_receipt_number(wide) == decorated
