"""The question spliced into a kept answer page: masked, escaped, and nowhere else."""

from datetime import date
from types import SimpleNamespace as Question

from hypothesis import given
from hypothesis import strategies as st

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


def reference_fill(body: bytes, question, repeat_proof: str = "") -> bytes:
    """The plain splice: each marker replaced in turn by its escaped value."""
    from html import escape

    receipt = question.receipt if question else ""
    birth = question.birth_date.isoformat() if question and question.birth_date else ""
    hidden, tail = masked(receipt)
    for marker, value in ((RECEIPT, receipt), (MASKED, tail), (MASK_HIDDEN, hidden),
                          (BIRTH_DATE, birth), (REPEAT, repeat_proof)):
        body = body.replace(str(marker).encode(), escape(value).encode())
    return body


MARKERS = st.sampled_from([str(m) for m in (RECEIPT, MASKED, MASK_HIDDEN, BIRTH_DATE, REPEAT)])
TEXT = st.text(alphabet="a%s<>&\"'＊の 0", max_size=8)


@given(st.lists(st.one_of(MARKERS, TEXT), max_size=12),
       st.one_of(st.none(), st.builds(Question, receipt=st.text(max_size=12),
                                      birth_date=st.one_of(st.none(), st.dates()))),
       st.text(max_size=8))
def test_one_format_fills_as_replacing_each_marker_does(pieces, question, proof):
    body = "".join(pieces).encode()
    assert fill(split(body), question, proof) == reference_fill(body, question, proof)
