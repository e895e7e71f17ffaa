"""The fast path's form reader gives exactly what ``parse_qsl`` gives, for any body."""

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from public_mirror.fastpath import parse_form
from public_mirror.resident import MAX_FIELDS


def reference(text):
    try:
        return dict(parse_qsl(text, max_num_fields=MAX_FIELDS))
    except ValueError:
        return ValueError


def ours(text):
    try:
        return parse_form(text)
    except ValueError:
        return ValueError


BODIES = st.text(alphabet="ab=&%+2F;０ー 　\x00", max_size=60)


@given(BODIES)
def test_any_body_reads_as_parse_qsl_reads_it(text):
    assert ours(text) == reference(text)


@given(st.integers(min_value=0, max_value=40), st.booleans())
def test_the_field_limit_is_the_same(fields, blank):
    text = "&".join(f"f{n}={'' if blank else n}" for n in range(fields))
    assert ours(text) == reference(text)


def test_what_the_form_sends():
    for text in ("programme=p2020&lang=ja&receipt_number=00000002",
                 "programme=p2020&receipt_number=0000-0002&birth_era=showa&birth_year=55"
                 "&birth_month=4&birth_day=1&asked=0f3a&lang=en",
                 "receipt_number=%EF%BC%90%EF%BC%90&programme=p2020",
                 "receipt_number=00+00&programme=p2020", "", "&", "lang=&lang=en"):
        assert ours(text) == reference(text)
