"""The question spliced into a kept answer page: masked, escaped, and nowhere else."""

from datetime import date
from types import SimpleNamespace as Question

from public_mirror.splice import BIRTH_DATE, MASK_HIDDEN, MASKED, RECEIPT, REPEAT, fill, masked, split


def test_masked_shows_the_last_four_and_at_most_half():
    assert masked("12345678") == ("＊＊＊＊", "5678")
    assert masked("ABC123456789") == ("＊" * 8, "6789")
    assert masked("12345") == ("＊＊＊", "45")


def test_each_resident_gets_their_own_escaped_question_in_the_markers_only():
    body = f'<p>{MASK_HIDDEN}{MASKED}</p><input value="{RECEIPT}"><input value="{BIRTH_DATE}">'
    parts = split(body.encode())
    page = fill(parts, Question(receipt="00000002", birth_date=date(1980, 4, 1)))
    assert page == ('<p>＊＊＊＊0002</p><input value="00000002"><input value="1980-04-01">').encode()
    odd = fill(parts, Question(receipt='"><b>', birth_date=None))
    assert b"<b>" not in odd and b"&quot;&gt;&lt;b&gt;" in odd
    assert fill(parts, None) == b'<p></p><input value=""><input value="">'


def test_the_repeat_proof_is_the_residents_own_and_escaped():
    parts = split(f'<input name="asked" value="{REPEAT}">'.encode())
    asked = Question(receipt="00000002", birth_date=None)
    assert fill(parts, asked, "ab12") == b'<input name="asked" value="ab12">'
    assert fill(parts, asked) == b'<input name="asked" value="">'
    assert b'"><' not in fill(parts, asked, '"><b>')
