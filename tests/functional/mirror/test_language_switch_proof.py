"""Attack: the language buttons' proof (``asked``, public_mirror.repeat) filled with anything.

A non-ASCII proof once answered 500 on the page, the form and the API (``compare_digest``
raises on such a str). Whatever the field holds, the question is answered as an ordinary,
counted lookup (or the body is refused as unreadable, 400), never a 500.
"""

import json
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from public_mirror.resident import MAX_BODY

FOUND = {"programme": "p2020", "receipt_number": "00000002", "lang": "en"}

HOSTILE = [
    "é", "証明", "０１２３４５６７８９ａｂｃｄｅｆ０１２３４５６７８９ａｂｃｄｅｆ", "😀" * 16,
    "\u202e" + "0" * 31, "\x00", "0" * 31 + "\x00", "a" * 32 + "\n", " " + "a" * 31,
    "A" * 32, "g" * 32, "a" * 10_000, "%C3%A9", "%00", "%FF%FE", "\ufffd" * 32,
    "\ud800", "0" * 32 + "\udfff",
]


def form_body(value: str) -> bytes:
    """The page's language buttons post this (x-www-form-urlencoded, answered by the fast
    path); a lone surrogate goes as the bytes a broken client would send for it."""
    raw = value.encode("utf-8", "surrogatepass")
    fields = "&".join(f"{k}={v}" for k, v in FOUND.items()).encode()
    return fields + b"&asked=" + quote_from_bytes(raw).encode()


def json_body(value: str) -> bytes:
    return json.dumps({**FOUND, "asked": value}).encode()   # \ud800 stays an escape


def assert_answered(mirror, value: str) -> None:
    page = mirror.post("/lookup", form_body(value), expect_errors=True,
                       content_type="application/x-www-form-urlencoded")
    assert page.status_int in (200, 400), (value, page.status)
    if page.status_int == 200:
        assert "Payment scheduled" in page.text
    # WebTest cannot encode a lone surrogate into a multipart body (nor can a browser).
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        form = mirror.post("/lookup", {**FOUND, "asked": value}, expect_errors=True,
                           content_type="multipart/form-data")
        if len(value.encode()) > MAX_BODY:   # every shell reads no body past one bound
            assert form.status_int == 400, (value, form.status)
        else:
            assert form.status_int == 200, (value, form.status)
            assert "Payment scheduled" in form.text
    body = json_body(value)
    api = mirror.post("/api/v1/lookup", body, expect_errors=True,
                      content_type="application/json")
    if len(body) > MAX_BODY:
        assert api.status_int == 400 and api.json["result"] == "invalid"
    else:
        assert api.status_int == 200, (value, api.status)
        assert api.json["result"] == "found"


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_proof_is_an_ordinary_lookup_on_page_form_and_api(mirror, value):
    assert_answered(mirror, value)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf"])
def test_proof_bytes_that_are_not_utf8_are_a_400_not_a_500(mirror, raw):
    fields = "&".join(f"{k}={v}" for k, v in FOUND.items()).encode()
    page = mirror.post("/lookup", fields + b"&asked=" + raw, expect_errors=True,
                       content_type="application/x-www-form-urlencoded")
    assert page.status_int in (200, 400)
    api = mirror.post("/api/v1/lookup", b'{"programme": "p2020", "receipt_number": "00000002",'
                      b' "asked": "' + raw + b'"}', expect_errors=True,
                      content_type="application/json")
    assert api.status_int == 400 and api.json["result"] == "invalid"


def test_a_hostile_proof_counts_as_a_failed_lookup_like_no_proof(public_host):
    """It proves nothing: a guess carrying it is counted and then refused (429), not 500."""
    public_host.publish()
    mirror = public_host.app(**{"mirror.rate_limit": "3"})
    missing = {"programme": "p2020", "receipt_number": "99999999", "asked": "é" * 32}
    statuses = [mirror.post("/lookup", missing, expect_errors=True).status_int
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    api = mirror.post_json("/api/v1/lookup", missing, expect_errors=True)
    assert api.status_int == 429


@pytest.fixture(scope="module")
def shared_mirror(tmp_path_factory):
    from lab.mirror_fixtures import PublicHost

    host = PublicHost(tmp_path_factory.mktemp("proof-fuzz"))
    host.publish()
    return host.app()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(min_size=1, max_size=200))
def test_any_text_as_the_proof_is_never_a_500(shared_mirror, value):
    assert_answered(shared_mirror, value)
