"""やさしい日本語, complete: every kanji a resident can meet on a やさしい日本語 page has furigana.

Every page the residents' page can show is read in やさしい日本語 — the form, each input
error, an answer for every status of the shipped catalogue, "not found", closed and ended
programmes, the limit, maintenance, updating, each error page, the statement — and any
kanji outside <ruby> fails the test, naming where it is; so does a heading with a reading
in brackets. An answer that needs the resident's action shows its action details — every
shipped 不備の種類, the demo's 返送先 and 同封するもの, the dates, and a passed deadline with
whom to call. The catalogues are read whole too (a message no page here shows still has
to pass), and so is every やさしい日本語 text the snapshot header carries from the shipped
defaults (status wording, 不備の種類, and whatever later default wording the header gains).
"""

from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from intranet.deficiencies.defaults import default_kinds
from intranet.demo import DEMO_PROGRAMMES
from intranet.statuses.defaults import default_catalogue
from public_mirror import birthdate, lookup, pages, resident
from public_mirror.i18n import LOCALE_DIR
from tests.easy_japanese import bracketed_readings, unread_in_markup, unread_kanji
from tests.mirror_fixtures import PROGRAMMES_EASY
from transfer.build import action_fields, status_fields

SHIPPED = [status_fields(status) for status in default_catalogue()]
# Every shipped 不備の種類, and 返送先 and 同封するもの as the demo's programme has them.
_DEMO = DEMO_PROGRAMMES[0]
SHIPPED_ACTION = action_fields(default_kinds(1), *(
    {"ja": _DEMO[name], "en": _DEMO[f"{name}_en"], "ja-easy": _DEMO[f"{name}_easy"]}
    for name in ("return_to", "enclose")))
ALL_KINDS = (1 << len(SHIPPED_ACTION["deficiency_kinds"])) - 1
ENDED = {"code": "p2018", "name": {"ja": "臨時給付金", "en": "Temporary Payment",
                                   "ja-easy": "{臨時|りんじ}の {給付金|きゅうふきん}"},
         "needs_birth_date": False, "lookup_opens_on": None, "lookup_closes_on": "2019-03-31",
         "lookup_ended": True, "contact": "{福祉課|ふくしか} 0120-111-111"}
CLOSED = {"code": "p2030", "name": {"ja": "未来給付金", "en": "Future Payment",
                                    "ja-easy": "{未来|みらい}の {給付金|きゅうふきん}"},
          "needs_birth_date": False, "lookup_opens_on": "2099-01-01", "lookup_closes_on": None}
SITE = {
    "site.municipality_name": "テスト市", "site.municipality_name.en": "Test City",
    "site.municipality_name.ja-easy": "テスト{市|し}",
    "site.contact": "市役所 0120-000-000", "site.contact.en": "City Hall 0120-000-000",
    "site.contact.ja-easy": "{市役所|しやくしょ} 0120-000-000",
    "site.hours": "平日", "site.hours.en": "Weekdays",
    "site.hours.ja-easy": "{月曜日|げつようび}から {金曜日|きんようび}",
    "site.update_schedule": "毎朝", "site.update_schedule.en": "Every morning",
    "site.update_schedule.ja-easy": "{毎朝|まいあさ}",
    "site.notice": "お知らせ", "site.notice.en": "Notice", "site.notice.ja-easy": "お{知|し}らせ"}
BIRTH = {"programme": "p2024", "receipt_number": "00000001", "birth_era": "showa",
         "birth_year": "55", "birth_month": "4", "birth_day": "1"}
# Each input the form can get wrong, with the error the page shows for it.
MISTAKES = [
    {"receipt_number": ""}, {"receipt_number": "これは"}, {"programme": "", "receipt_number": "1"},
    {**BIRTH, "birth_year": "", "birth_month": "", "birth_day": ""},
    {**BIRTH, "birth_day": ""}, {**BIRTH, "birth_year": "五十五"},
    {**BIRTH, "birth_era": "", "birth_year": "55"},
    {**BIRTH, "birth_era": "western", "birth_year": "55"},
    {**BIRTH, "birth_year": "70"}, {**BIRTH, "birth_era": "heisei", "birth_year": "31",
                                    "birth_month": "5"},
    {**BIRTH, "birth_era": "reiwa", "birth_year": "1", "birth_month": "4"},
    {**BIRTH, "birth_month": "2", "birth_day": "30"},
    {**BIRTH, "birth_era": "western", "birth_year": "2999"},
    {**BIRTH, "birth_era": "western", "birth_year": "1800"},
    {"programme": "p2024", "receipt_number": "1", "birth_date": "昭和"},
]


@pytest.fixture
def host(public_host):
    public_host.settings.update(SITE)
    today = lookup.today_in_japan()
    more = [("p2020", f"2{index:07d}", index, date(2026, 4, 1), date(2026, 4, 10),
             ALL_KINDS, today - timedelta(10), today + timedelta(10))
            for index in range(len(SHIPPED))]
    # Each status that needs the resident's action once more, its deadline passed.
    more += [("p2020", f"3{index:07d}", index, None, None, ALL_KINDS, today - timedelta(30),
              today - timedelta(3)) for index, status in enumerate(SHIPPED)
             if status.get("action_needed")]
    p2020 = {**PROGRAMMES_EASY[0], **SHIPPED_ACTION}
    public_host.publish(programmes=[p2020, *PROGRAMMES_EASY[1:], ENDED, CLOSED],
                        statuses=SHIPPED, more=more, version=2)
    return public_host


def shown_pages(host) -> dict[str, str]:
    """Every page a resident can be shown, in やさしい日本語, by what it shows. (A body that
    cannot be read says in which language it was sent no more than anything else it holds:
    its page is in 日本語.)"""
    app, easy = host.app(), {"lang": "ja-easy"}
    shown = {
        "form": app.get("/", easy), "programme link": app.get("/p/p2024", easy),
        "statement": app.get("/accessibility", easy), "busy": app.get("/busy", easy, status=429),
        "bad request": app.get("/bad-request", easy, status=400),
        "no such page": app.get("/nowhere", easy, status=404),
        "wrong method": app.delete("/lookup?lang=ja-easy", status=404),
        "ended": app.post("/lookup", {"programme": "p2018", "receipt_number": "00000001", **easy}),
        "closed": app.post("/lookup", {"programme": "p2030", "receipt_number": "00000001", **easy}),
        "not found": app.post("/lookup", {**BIRTH, "receipt_number": "99999999", **easy}),
        "not found, 元年": app.post("/lookup", {**BIRTH, "receipt_number": "99999998", **easy,
                                              "birth_era": "reiwa", "birth_year": "元",
                                              "birth_month": "5", "birth_day": "1"}),
        "back to the form": app.post("/", {**BIRTH, **easy}),
    }
    for index, status in enumerate(SHIPPED):
        shown[f"answer: {status['code']}"] = app.post("/lookup", {
            "programme": "p2020", "receipt_number": f"2{index:07d}", **easy})
        if status.get("action_needed"):
            shown[f"answer: {status['code']}, overdue"] = app.post("/lookup", {
                "programme": "p2020", "receipt_number": f"3{index:07d}", **easy})
    for number, mistake in enumerate(MISTAKES):
        shown[f"mistake {number}: {mistake}"] = app.post(
            "/lookup", {"programme": "p2020", **mistake, **easy}, status=400)
    limited = host.app(**{"mirror.rate_limit": "1",
                          "mirror.rate_limit_file": str(host.root / "strict.table")})
    limited.post("/lookup", {"programme": "p2020", "receipt_number": "99999997", **easy})
    shown["too many"] = limited.post("/lookup", {"programme": "p2020",
                                                 "receipt_number": "99999996", **easy}, status=429)
    shown["maintenance"] = host.app(**{"mirror.maintenance": "true"}).get("/", easy, status=503)
    return {name: response.text for name, response in shown.items()}


def test_every_kanji_on_every_page_has_furigana(host):
    seen = shown_pages(host)
    unread = {name: kanji for name, html in seen.items() if (kanji := unread_kanji(html))}
    assert unread == {}
    assert not {name: found for name, html in seen.items()
                if (found := bracketed_readings(html))}
    # The pages were in やさしい日本語 and showed what they are for.
    assert all('<a class="skip" href="#main"><ruby>' in html for html in seen.values())
    assert "<ruby>書類<rp>" in seen["answer: deficient"]
    # The action details were there: every shipped kind, where to send, a passed deadline.
    for name in ("answer: deficient", "answer: deficient, overdue"):
        assert seen[name].count("<li>", seen[name].index('class="missing"')) >= len(
            SHIPPED_ACTION["deficiency_kinds"])
        assert "<ruby>市役所<rp>" in seen[name] and "<ruby>封筒<rp>" in seen[name]
    assert 'class="overdue"' in seen["answer: deficient, overdue"]
    assert 'class="overdue"' not in seen["answer: deficient"]
    assert '<option value="showa" selected>しょうわ</option>' in seen["back to the form"]
    assert "しょうわ 55<ruby>年" in seen["not found"]
    assert "<ruby>元<rp>（</rp><rt>がん</rt>" in seen["not found, 元年"]


def test_updating_and_failure_pages_too(public_host, monkeypatch):
    public_host.settings.update(SITE)
    app = public_host.app()
    seen = {"updating": app.get("/", {"lang": "ja-easy"}, status=503).text}
    public_host.publish(programmes=PROGRAMMES_EASY)

    def broken(*args, **kwargs):
        raise RuntimeError("a failure")

    monkeypatch.setattr(pages.Pages, "form_values", broken)
    seen["failure"] = public_host.app().get("/", {"lang": "ja-easy"}, status=500).text
    assert {name: unread_kanji(html) for name, html in seen.items()} == {
        "updating": [], "failure": []}


def test_the_page_shown_when_the_app_is_down_has_its_easy_line():
    html = (Path(pages.__file__).parent / "static" / "unavailable.html").read_text()
    easy = html.split('<p class="easy">')[1].split("</p>")[0]
    assert unread_kanji(f"<p>{easy}</p>") == []


def catalogue(lang: str):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "mirror.po", "rb") as po:
        return {message.id: message.string for message in read_po(po) if message.id}


def test_every_easy_message_in_the_catalogue_has_furigana():
    easy = catalogue("ja-easy")
    unread = {msgid: kanji for msgid, text in easy.items() if (kanji := unread_in_markup(text))}
    assert unread == {}
    assert not [text for text in easy.values() if bracketed_readings(f"<h1>{text}</h1>")]


def test_every_message_the_page_can_show_is_in_both_catalogues():
    from babel.messages.extract import extract_from_dir

    root = Path(pages.__file__).parents[1]
    extracted = {message if isinstance(message, str) else message[0]
                 for _file, _line, message, _comments, _context in extract_from_dir(
                     root / "public_mirror", method_map=[
                         ("templates/**.jinja2", "jinja2.ext.babel_extract"),
                         ("**.py", "python")],
                     options_map={"templates/**.jinja2": {"extensions": "jinja2.ext.i18n"}})}
    # Message ids kept in constants and given to the page as values.
    constants = {*(value for module in (birthdate, lookup) for name, value in vars(module).items()
                   if name.isupper() and isinstance(value, str) and value.endswith(("。", "日"))),
                 *(text for pair in pages.ERRORS.values() for text in pair),
                 resident.BODY_INVALID, birthdate.IN_ERA,
                 *(era.name for era in birthdate.ERAS.values())}
    easy, english = catalogue("ja-easy"), catalogue("en")
    assert set(easy) == set(english)
    assert sorted((extracted | constants) - set(easy)) == []
    assert not [msgid for msgid in easy if not easy[msgid] or not english[msgid]]


def test_every_easy_text_of_the_shipped_defaults_has_furigana():
    """What the snapshot header carries in やさしい日本語 from the shipped defaults, found by
    walking it: any new wording the header gains is read without changing this test."""
    def easy_texts(value, inside=False):
        if isinstance(value, dict):
            for key, part in value.items():
                yield from easy_texts(part, inside or key == "ja-easy")
        elif isinstance(value, list):
            for part in value:
                yield from easy_texts(part, inside)
        elif isinstance(value, str) and inside:
            yield value

    texts = list(easy_texts(SHIPPED))
    assert len(texts) >= 3 * len(SHIPPED)
    kinds = list(easy_texts(SHIPPED_ACTION))
    assert len(kinds) == len(SHIPPED_ACTION["deficiency_kinds"]) + 2   # and 返送先, 同封するもの
    texts += kinds
    assert {text: kanji for text in texts if (kanji := unread_in_markup(text))} == {}


def test_a_kanji_outside_ruby_is_caught_where_it_is():
    assert unread_kanji("<p><ruby>申請<rt>しんせい</rt></ruby>の いま</p>") == []
    assert unread_kanji('<p>申請の いま</p><img alt="市" src="x">') == [
        "p: 申請の いま", "<img alt>: 市"]
    assert unread_kanji("<title>申請</title>") and unread_kanji("<option>昭和</option>")
    assert bracketed_readings("<h1>申請（しんせい）の いま</h1>") == ["申請（しんせい）の いま"]
    assert bracketed_readings("<h1>うまれた 日（せいねんがっぴ）</h1>")
    assert unread_in_markup("{申請|しんせい}の 書類") == [": の 書類"]
    # The wording shipped before: 28 of its 36 やさしい日本語 texts had a kanji without furigana.
    assert unread_in_markup("あなたの 申請書を うけとりました。") == [": あなたの 申請書を うけとりました。"]


def test_dates_and_times_read_as_one_word_each():
    from public_mirror import furigana

    assert furigana.as_text(furigana.date_html(date(2026, 4, 1))) == "2026ねん しがつ ついたち"
    assert furigana.day_of_month(20) == "はつか" and furigana.day_of_month(19) == "じゅうくにち"
    assert [furigana.minutes(n) for n in (1, 5, 10, 15, 30, 47)] == [
        "いっぷん", "ごふん", "じゅっぷん", "じゅうごふん", "さんじゅっぷん", "よんじゅうななふん"]
    assert [furigana.hour(n) for n in (0, 4, 9, 10, 14, 17)] == [
        "れいじ", "よじ", "くじ", "じゅうじ", "じゅうよじ", "じゅうしちじ"]
