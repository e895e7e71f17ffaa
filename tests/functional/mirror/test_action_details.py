"""The resident's answer when they have to act: what is missing (a list), where to send it,
what to enclose, by when — and whom to call once that has passed — and when the letter was
sent, in 日本語, English and やさしい日本語, on the page, the fast path and the JSON API; and
snapshots of format 1 and 2 each on the other side of an upgrade."""

import re
from datetime import timedelta

import pytest

from public_mirror import lookup, web
from tests.mirror_fixtures import ENCLOSE, KINDS, RETURN_TO
from transfer import snapshot as snapshot_format


@pytest.fixture
def host(public_host):
    public_host.publish(version=2)
    return public_host


def ask(app, number, lang="ja", **extra):
    return app.post("/lookup", {"programme": "p2020", "receipt_number": number, "lang": lang,
                                **extra})


def body(page):
    return page.text.split('<main id="main">')[1]


def shown_day(day, lang):
    """A date as the page writes it (やさしい日本語: with furigana, word by word, as
    test_easy_japanese_complete checks)."""
    if lang == "ja-easy":
        return web.day(day, lang)
    return f"{day.day} {day:%B %Y}" if lang == "en" else f"{day.year}年{day.month}月{day.day}日"


@pytest.mark.parametrize("lang", ["ja", "en", "ja-easy"])
def test_what_where_and_by_when_in_each_language(host, lang):
    page = ask(host.app(), "00000011", lang)
    today = lookup.today_in_japan()
    main = body(page)
    assert page.html.select_one("section.answer.action .action-details")
    items = [li.decode_contents() for li in page.html.select(".action-details ul.missing li")]
    if lang == "ja-easy":
        assert items == ["あなたが だれか わかる "
                         "<ruby>書類<rp>（</rp><rt>しょるい</rt><rp>）</rp></ruby>の コピー",
                         "<ruby>申請書<rp>（</rp><rt>しんせいしょ</rt><rp>）</rp></ruby>の "
                         "<ruby>署名<rp>（</rp><rt>しょめい</rt><rp>）</rp></ruby>"]
        assert "<ruby>給付金<rp>（</rp><rt>きゅうふきん</rt>" in main      # 返送先, with furigana
        assert "{" not in main
    else:
        assert items == [KINDS[0]["wording"][lang], KINDS[2]["wording"][lang]]
        assert RETURN_TO[lang] in main and ENCLOSE[lang] in main
    assert shown_day(today + timedelta(10), lang) in main         # the deadline
    assert shown_day(today - timedelta(10), lang) in main         # the letter sent
    assert 'class="overdue"' not in main
    assert KINDS[1]["wording"]["ja"] not in main                   # a kind not set is not said


@pytest.mark.parametrize(("lang", "words"), [
    ("ja", "返送期限を過ぎています。"), ("en", "The deadline has passed."),
    ("ja-easy", "おくる しめきりの ひが すぎました")])
def test_a_passed_deadline_says_whom_to_call(host, lang, words):
    page = ask(host.app(), "00000012", lang)
    overdue = page.html.select_one(".action-details .overdue")
    assert words in overdue.decode_contents() and "0120-000-000" in overdue.text


def test_two_residents_with_other_kinds_never_share_a_cached_page(host):
    app = host.app()
    first, second = ask(app, "00000011"), ask(app, "00000012")
    assert "本人確認書類の写し" in first.text and "本人確認書類の写し" not in second.text
    assert "振込先口座の確認書類" in second.text and "振込先口座の確認書類" not in first.text
    # And the first again (from the cache) is still the first's.
    assert "本人確認書類の写し" in ask(app, "00000011").text


def test_the_fast_path_and_the_framework_give_the_same_page(host):
    app = host.app()
    fast = ask(app, "00000011", "en")
    # multipart is not the fast path's: Pyramid's view answers it, through the same desk.
    slow = app.post("/lookup", {"programme": "p2020", "receipt_number": "00000011",
                                "lang": "en"}, content_type="multipart/form-data")
    strip = re.compile(rb'name="asked" value="[0-9a-f]*"')
    assert strip.sub(b"", fast.body) == strip.sub(b"", slow.body)
    assert "What is missing" in fast.text


@pytest.mark.parametrize("lang", ["ja", "en", "ja-easy"])
def test_the_api_gives_the_same_action_details_as_plain_text(host, lang):
    app = host.app()
    today = lookup.today_in_japan()
    answer = app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "00000011",
                                              "lang": lang}).json
    action = answer["action"]
    assert answer["action_needed"] is True and action["overdue"] is False
    assert action["return_by"] == (today + timedelta(10)).isoformat()
    assert action["documents_sent_on"] == (today - timedelta(10)).isoformat()
    assert len(action["missing"]) == 2 and all("{" not in text for text in action["missing"])
    assert action["contact"] is None
    if lang == "ja-easy":
        assert action["missing"][1] == "申請書の 署名"
    late = app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "00000012",
                                            "lang": lang}).json["action"]
    assert late["overdue"] is True and late["contact"] == "0120-000-000"
    plain = app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "00000002"})
    assert plain.json["action"] is None


def test_the_openapi_document_describes_the_action_details(host):
    from jsonschema_rs import Draft202012Validator  # what schemathesis validates with

    app = host.app()
    document = app.get("/api/v1/openapi.json").json
    schema = document["paths"]["/api/v1/lookup"]["post"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    action = schema["properties"]["action"]["oneOf"][1]
    assert {"missing", "return_to", "return_by", "overdue", "contact"} <= set(action["properties"])
    for number in ("00000011", "00000012", "00000002", "99999999"):
        answer = app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": number,
                                                  "lang": "en"}).json
        assert [e.message for e in Draft202012Validator(schema).iter_errors(answer)] == [], number


def test_an_older_snapshot_on_a_newer_mirror_answers_as_before(public_host):
    """Format 1, as the mirror holds it when its software is upgraded first."""
    public_host.publish()
    page = ask(public_host.app(), "00000011")
    assert page.html.select_one("section.answer.action")          # still stands out
    assert page.html.select_one(".action-details") is None        # and says what it said
    assert "返送した書類を直して送ってください。" in page.text


def test_a_newer_snapshot_on_an_older_mirror_is_refused_and_the_live_one_serves(
        public_host, monkeypatch):
    """A mirror that knows format 1 only quarantines a format-2 file and keeps answering
    from the one it has; upgraded, it takes the next one."""
    public_host.publish()
    newer = public_host.snapshot(version=2)
    monkeypatch.setattr(snapshot_format, "ENTRY_FORMATS", {1: snapshot_format.ENTRY_V1})
    public_host.drop(newer)
    outcome = public_host.receive()
    assert "format 2 is not supported" in str(outcome)
    assert list((public_host.root / "quarantine").iterdir())
    assert "返送した書類を直して送ってください。" in ask(public_host.app(), "00000011").text
    monkeypatch.undo()
    public_host.publish(version=2)
    assert "本人確認書類の写し" in ask(public_host.app(), "00000011").text


def test_wording_in_the_header_cannot_bring_markup_of_its_own(public_host):
    """A kind's wording, 返送先 or 同封するもの is text: escaped before furigana is added."""
    from tests.mirror_fixtures import PROGRAMMES_V2

    hostile = [{**PROGRAMMES_V2[0],
                "deficiency_kinds": [{"code": "id_copy", "bit": 0, "wording": {
                    "ja": "<script>alert(1)</script>", "ja-easy": "{<img src=x>|えっくす}"}},
                    {"code": "bank", "bit": 1, "wording": {"ja": "口座"}},
                    {"code": "signature", "bit": 2, "wording": {"ja": "<b>署名</b>"}}],
                "return_to": {"ja": "<a href='//evil'>返送先</a>"},
                "enclose": {"ja": "</dd></dl><form action=//evil>"}}, PROGRAMMES_V2[1]]
    public_host.publish(version=2, programmes=hostile)
    app = public_host.app()
    for lang in ("ja", "ja-easy"):
        page = ask(app, "00000011", lang).text
        for raw in ("<script>", "<img src=x>", "<b>", "<a href='//evil'", "<form action"):
            assert raw not in page, (lang, raw)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ask(app, "00000011").text
    api = app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "00000011"})
    assert api.json["action"]["missing"] == ["<script>alert(1)</script>", "<b>署名</b>"]
    assert api.headers["Content-Type"].startswith("application/json")
