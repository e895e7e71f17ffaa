"""One lookup flow: the page (Pyramid), the cached fast path and the API give the same answers,
and a cached page holds nothing taken from the request."""

import json
import re

import pytest

from lab.mirror_fixtures import without_proof
from public_mirror.fastpath import LookupFastPath

QUESTIONS = [
    ({"programme": "p2020", "receipt_number": "0000-0002"}, "found", "payment_scheduled"),
    ({"programme": "p2020", "receipt_number": "００００ ０００１"}, "found", "received"),
    ({"programme": "p2020", "receipt_number": "00000099"}, "not_found", None),
    ({"programme": "p2024", "receipt_number": "00000001", "birth_date": "1980-04-01"},
     "found", "received"),
    ({"programme": "p2024", "receipt_number": "00000001", "birth_date": "1980-04-02"},
     "not_found", None),
    ({"programme": "p2024", "receipt_number": "00000001"}, "invalid", None),
    ({"programme": "nope", "receipt_number": "00000001"}, "invalid", None),
    ({"programme": "p2020", "receipt_number": "これは番号"}, "invalid", None),
    ({"programme": "p2024", "receipt_number": "00000001", "birth_date": "2147483648-01-01"},
     "invalid", None),
]
HTML_KIND = {"found": (200, "時点のものです"), "not_found": (200, "見つかりませんでした"),
             "invalid": (400, 'role="alert"')}
LABELS = {"payment_scheduled": "振込予定です", "received": "受け付けました"}


@pytest.fixture
def three_ways(public_host):
    public_host.publish()
    public_host.settings["mirror.rate_limit"] = "1000"
    api = public_host.app()
    fast = public_host.app()
    assert isinstance(fast.app, LookupFastPath)
    page = public_host.app()
    page.app = page.app.app          # Pyramid alone: the page view, no fast path in front
    return api, fast, page


@pytest.mark.parametrize("question, kind, status", QUESTIONS)
def test_page_fast_path_and_api_agree(three_ways, question, kind, status):
    api, fast, page = three_ways
    answer = api.post_json("/api/v1/lookup", question, status="*").json
    assert answer["result"] == kind and answer.get("status") == status
    code, marker = HTML_KIND[kind]
    form = {"lang": "ja", **question}
    if "birth_date" in form:
        year, month, day = form.pop("birth_date").split("-")
        form.update(birth_year=year, birth_month=month, birth_day=day)
    through_fast = fast.post("/lookup", form, status="*")
    through_page = page.post("/lookup", form, status="*")
    assert through_fast.status_int == through_page.status_int == code
    assert through_fast.body == through_page.body
    assert marker in through_fast.text
    if status:
        assert LABELS[status] in through_fast.text


def test_the_fast_path_the_page_and_the_api_count_one_rate_limit(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "3"})
    app.post("/lookup", {"programme": "p2020", "receipt_number": "90000001"})   # fast path
    app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "90000001"})
    # A multipart form is not the fast path's: Pyramid's view answers it, same limiter.
    through_view = app.post("/lookup", {"programme": "p2020", "receipt_number": "90000001"},
                            content_type="multipart/form-data")
    assert through_view.status_int == 200 and "見つかりませんでした" in through_view.text
    assert app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "1"},
                         status=429).json["result"] == "rate_limited"


def test_a_cached_page_holds_nothing_from_the_request(public_host):
    public_host.publish()
    app = public_host.app()
    form = {"programme": "p2020", "receipt_number": "00000099", "lang": "ja"}
    first = app.post("/lookup?lang=en", form, headers={"Host": "evil.example"},
                     extra_environ={"HTTP_X_FORWARDED_HOST": "evil.example",
                                    "HTTP_X_FORWARDED_PROTO": "http", "SCRIPT_NAME": "/evil"})
    assert "evil" not in first.text and '<html lang="ja">' in first.text
    later = app.post("/lookup", {**form, "receipt_number": "00000098"})
    # Each resident's own number (masked, and in the language buttons) and the language
    # buttons' proof of a repeat (public_mirror.repeat) are all that differs.
    assert later.forms[0]["asked"].value != first.forms[0]["asked"].value
    assert without_proof(later.body).replace(b"0098", b"0099") == without_proof(first.body)
    assert len(app.app.services.pages.cache) == 1
    ((kept, _parts),) = app.app.services.pages.cache._pages.values()
    assert b"0099" not in kept.body and b"0098" not in kept.body
    links = re.findall(r'(?:href|action|src)="([^"]+)"', later.text)
    assert links and all((link.startswith("/") and not link.startswith("//"))
                         or link.startswith("#") for link in links)


def test_links_follow_the_configured_public_base_url(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.public_base_url": "https://www.city.example.lg.jp/shinsei/"})
    page = app.post("/lookup", {"programme": "p2020", "receipt_number": "00000002", "lang": "en"})
    links = re.findall(r'(?:href|action|src)="([^"]+)"', page.text)
    assert all(link.startswith("https://www.city.example.lg.jp/shinsei/") or link.startswith("#")
               for link in links)
    assert "https://www.city.example.lg.jp/shinsei/?lang=en" in page.text


@pytest.mark.parametrize("body", [
    {"programme": "p2020", "receipt_number": "00000001", "lang": "en\r\nX: y"},
    {"programme": "p2020", "receipt_number": "00000001", "lang": "../../etc"},
    {"programme": "p2020", "receipt_number": "00000001", "lang": "ja-easy" * 100},
])
def test_odd_languages_fall_back_to_japanese(mirror, body):
    page = mirror.post("/lookup", body)
    assert '<html lang="ja">' in page.text and body["lang"] not in page.text
    assert json.loads(mirror.post_json("/api/v1/lookup", body).body)["label"] == "受け付けました"


def test_wording_from_the_snapshot_is_escaped(public_host):
    from lab.mirror_fixtures import STATUSES

    hostile = [{**STATUSES[0], "wording": {"ja": {"label": "<script>alert(1)</script>",
                                                  "explanation": '"><img src=x>',
                                                  "next_step": "&amp;"}}}, *STATUSES[1:]]
    public_host.publish(statuses=hostile)
    page = public_host.app().post("/lookup", {"programme": "p2020", "receipt_number": "00000001"})
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert '"><img' not in page.text and "&amp;amp;" in page.text


@pytest.mark.parametrize("base", ["javascript:alert(1)", "https://x.example/?a=1", "//evil",
                                  "https://x.example/#f"])
def test_a_public_base_url_that_is_not_one_is_refused_at_start_up(public_host, base):
    from public_mirror.settings import MirrorSettingsError

    with pytest.raises(MirrorSettingsError, match="public_base_url"):
        public_host.app(**{"mirror.public_base_url": base})
