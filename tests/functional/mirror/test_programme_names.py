"""Programme names in each language: やさしい日本語 with furigana as <ruby>, English, and the
Japanese name wherever a snapshot has no name in the page's language (older snapshots)."""


import pytest

from lab.clock import on_a_hand_clock
from lab.mirror_fixtures import PROGRAMMES
from public_mirror.store import RECHECK

EASY = "{物価|ぶっか}の {給付金|きゅうふきん}"
RUBY = ("<ruby>物価<rp>（</rp><rt>ぶっか</rt><rp>）</rp></ruby>の "
        "<ruby>給付金<rp>（</rp><rt>きゅうふきん</rt><rp>）</rp></ruby>")
NAMED = [PROGRAMMES[0], {**PROGRAMMES[1], "name": {**PROGRAMMES[1]["name"], "ja-easy": EASY}}]
SHOWN = {"ja": "物価高騰対策給付金", "en": "Price Relief Payment", "ja-easy": RUBY}
BIRTH = {"birth_era": "showa", "birth_year": "55", "birth_month": "4", "birth_day": "1"}


def published(public_host, **snapshot) -> bool:
    return [outcome.accepted for outcome in public_host.publish(**snapshot)] == [True]


@pytest.fixture
def named(public_host):
    assert published(public_host, programmes=NAMED)
    return public_host.app()


def ask(app, lang, number="00000001", **extra):
    return app.post("/lookup", {"programme": "p2024", "receipt_number": number, "lang": lang,
                                **BIRTH, **extra})


def pages(app, lang):
    """The form, /p/<code>, an answer (twice: the second from the cache) and a not-found."""
    return {"form": app.get("/", {"lang": lang}), "link": app.get("/p/p2024", {"lang": lang}),
            "answer": ask(app, lang), "kept answer": ask(app, lang),
            "not found": ask(app, lang, "00000099"), "kept not found": ask(app, lang, "00000098")}


@pytest.mark.parametrize("lang", ["ja", "en", "ja-easy"])
def test_each_page_names_the_programme_in_its_language(named, lang):
    for page, response in pages(named, lang).items():
        assert response.status_int == 200, page
        assert SHOWN[lang] in response.text, page
        assert "{物価" not in response.text and "ぶっか}" not in response.text, page
        if lang != "ja-easy":
            assert "<ruby>物価" not in response.text, page


def test_the_answer_page_says_which_programme_in_furigana_beside_the_number(named):
    page = ask(named, "ja-easy")
    question = page.html.select_one("dl.question")
    assert RUBY in str(question) and "0001" in question.text


def test_an_older_snapshot_without_easy_names_shows_the_japanese_name(public_host):
    assert published(public_host)   # PROGRAMMES: names in ja and en only
    app = public_host.app()
    for page, response in pages(app, "ja-easy").items():
        assert "物価高騰対策給付金" in response.text, page


def test_a_new_publication_renames_the_programme_on_kept_pages(public_host):
    assert published(public_host)
    app = public_host.app()
    clock = on_a_hand_clock(app.app.services.snapshots)
    assert RUBY not in ask(app, "ja-easy").text     # kept in the answer cache...
    assert published(public_host, programmes=NAMED)
    clock.advance(RECHECK)                           # a worker looks at the active file again
    assert RUBY in ask(app, "ja-easy").text         # ...but never past its snapshot


def test_a_name_cannot_bring_markup_onto_the_page(public_host):
    hostile = [PROGRAMMES[0], {**PROGRAMMES[1], "name": {
        "ja": "<script>alert(1)</script>", "en": "<b>x</b>",
        "ja-easy": "{<img src=x onerror=alert(1)>|えっくす}"}}]
    assert published(public_host, programmes=hostile)
    app = public_host.app()
    for lang in ("ja", "en", "ja-easy"):
        for page, response in pages(app, lang).items():
            text = response.text
            assert "<script>alert" not in text and "<b>x" not in text and "<img src=x" not in text, page


def test_the_api_gives_names_and_wording_as_plain_text_without_furigana_marks(public_host):
    """A chatbot shows or reads the text as it is: the page's ruby marks stay out of it."""
    assert published(public_host, programmes=NAMED)
    app = public_host.app()
    names = {p["programme"]: p["name"] for p in app.get("/api/v1/progress").json["programmes"]}
    assert names["p2024"]["ja-easy"] == "物価の 給付金"
    assert names["p2024"]["ja"] == "物価高騰対策給付金"
    answer = app.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "00000011",
                                              "lang": "ja-easy"}).json
    assert answer["result"] == "found"
    assert (answer["label"], answer["next_step"]) == ("書類が たりません",
                                                      "書類を もう 一度 おくって ください。")


@pytest.mark.parametrize("ended", [False, True])
@pytest.mark.parametrize("lang", ["ja", "en", "ja-easy"])
def test_the_closed_page_names_the_programme_asked_about(public_host, lang, ended):
    closed = {**NAMED[1], "lookup_ended": True} if ended else {**NAMED[1],
                                                               "lookup_closes_on": "2021-03-31"}
    assert published(public_host, programmes=[NAMED[0], closed])
    page = ask(public_host.app(), lang)
    assert page.status_int == 200
    assert SHOWN[lang] in page.html.select_one("p.programme").decode_contents()
