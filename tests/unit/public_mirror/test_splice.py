"""The question spliced into a kept answer page: masked, escaped, and nowhere else."""

from datetime import date
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from public_mirror.birthdate import ERAS
from public_mirror.splice import (
    BIRTH_DAY,
    BIRTH_ERA,
    BIRTH_MONTH,
    BIRTH_SHOWN,
    BIRTH_YEAR,
    ERA_CHOICES,
    ERA_CHOSEN,
    MASK_HIDDEN,
    MASKED,
    RECEIPT,
    REPEAT,
    fill,
    masked,
    split,
)


def Question(receipt, birth_date=None, birth_era=""):
    return SimpleNamespace(receipt=receipt, birth_date=birth_date, birth_era=birth_era)


def test_masked_shows_the_last_four_and_at_most_half():
    assert masked("12345678") == ("＊＊＊＊", "5678")
    assert masked("ABC123456789") == ("＊" * 8, "6789")
    assert masked("12345") == ("＊＊＊", "45")


def test_each_resident_gets_their_own_escaped_question_in_the_markers_only():
    body = f'<p>{MASK_HIDDEN}{MASKED}</p><input value="{RECEIPT}"><input value="{BIRTH_YEAR}">'
    parts = split(body.encode())
    page = fill(parts, Question("00000002", date(1980, 4, 1), "showa"))
    assert page == ('<p>＊＊＊＊0002</p><input value="00000002"><input value="55">').encode()
    odd = fill(parts, Question('"><b>'))
    assert b"<b>" not in odd and b"&quot;&gt;&lt;b&gt;" in odd
    assert fill(parts, None) == b'<p></p><input value=""><input value="">'


def test_the_birth_date_comes_back_in_the_form_it_was_entered():
    body = "".join(f"[{m}]" for m in (BIRTH_ERA, BIRTH_YEAR, BIRTH_MONTH, BIRTH_DAY))
    parts = split(body.encode())
    assert fill(parts, Question("1", date(1980, 4, 1), "showa")) == b"[showa][55][4][1]"
    assert fill(parts, Question("1", date(2019, 5, 1), "reiwa")) == b"[reiwa][1][5][1]"
    assert fill(parts, Question("1", date(1980, 4, 1), "western")) == b"[western][1980][4][1]"
    # An ISO date (the API) is shown in 西暦.
    assert fill(parts, Question("1", date(1980, 4, 1))) == b"[western][1980][4][1]"


def test_only_the_era_entered_is_selected():
    options = "".join(f'<option value="{code}"{ERA_CHOSEN[code]}>' for code in ERA_CHOICES)
    parts = split(options.encode())
    page = fill(parts, Question("1", date(1980, 4, 1), "showa")).decode()
    assert page.count(" selected") == 1 and '<option value="showa" selected>' in page
    assert fill(parts, Question("1")).decode().count(" selected") == 1
    assert '<option value="" selected>' in fill(parts, Question("1")).decode()


def test_the_date_written_out_is_asked_for_only_where_the_page_shows_it():
    asked = []

    def write_out(question):
        asked.append(question)
        return "<ruby>昭和<rt>しょうわ</rt></ruby>55年"

    question = Question("1", date(1980, 4, 1), "showa")
    assert fill(split(f"<p>{MASKED}</p>".encode()), question, "", write_out) == b"<p></p>"
    assert asked == []
    shown = fill(split(f"<dd>{BIRTH_SHOWN}</dd>".encode()), question, "", write_out)
    assert shown == "<dd><ruby>昭和<rt>しょうわ</rt></ruby>55年</dd>".encode() and asked


def test_the_repeat_proof_is_the_residents_own_and_escaped():
    parts = split(f'<input name="asked" value="{REPEAT}">'.encode())
    asked = Question("00000002")
    assert fill(parts, asked, "ab12") == b'<input name="asked" value="ab12">'
    assert fill(parts, asked) == b'<input name="asked" value="">'
    assert b'"><' not in fill(parts, asked, '"><b>')


def reference_fill(body: bytes, question, repeat_proof: str = "") -> bytes:
    """The plain splice: each marker replaced in turn by its escaped value."""
    from html import escape

    receipt = question.receipt if question else ""
    birth = question.birth_date if question else None
    hidden, tail = masked(receipt)
    era = (question.birth_era if question.birth_era in ERAS else "western") if birth else ""
    year = (birth.year - ERAS[era].first.year + 1 if era in ERAS else birth.year) if birth else ""
    values = [(RECEIPT, receipt), (MASKED, tail), (MASK_HIDDEN, hidden), (REPEAT, repeat_proof),
              (BIRTH_ERA, era), (BIRTH_YEAR, str(year)),
              (BIRTH_MONTH, str(birth.month) if birth else ""),
              (BIRTH_DAY, str(birth.day) if birth else ""), (BIRTH_SHOWN, ""),
              *((ERA_CHOSEN[code], " selected" if code == era else "") for code in ERA_CHOICES)]
    for marker, value in values:
        body = body.replace(str(marker).encode(), escape(value).encode())
    return body


MARKERS = st.sampled_from([str(m) for m in (RECEIPT, MASKED, MASK_HIDDEN, REPEAT, BIRTH_ERA,
                                            BIRTH_YEAR, BIRTH_MONTH, BIRTH_DAY,
                                            *ERA_CHOSEN.values())])
TEXT = st.text(alphabet="a%s<>&\"'＊の 0", max_size=8)


@given(st.lists(st.one_of(MARKERS, TEXT), max_size=12),
       st.one_of(st.none(), st.builds(Question, receipt=st.text(max_size=12),
                                      birth_date=st.one_of(st.none(), st.dates(
                                          min_value=date(1912, 7, 30))),
                                      birth_era=st.sampled_from(ERA_CHOICES))),
       st.text(max_size=8))
def test_one_format_fills_as_replacing_each_marker_does(pieces, question, proof):
    body = "".join(pieces).encode()
    assert fill(split(body), question, proof) == reference_fill(body, question, proof)
