"""Mistakes cost nothing: after "not found" the page says what was typed (the programme, the
number masked, the birth date in the era and form it was entered) and offers the form again
filled in; 「入力画面に戻る」 keeps the input — and what was typed is in that one response
only. Each way an attacker could find it somewhere else is tried here: a kept page, a later
visitor's page, a log line, a URL (and so a Referer), the host's files."""

import logging
import re
from pathlib import Path

import pytest

from public_mirror import pages as pages_module
from tests.mirror_fixtures import without_proof

# An unusual number and birth date, so that finding them anywhere means a leak.
NUMBER, TAIL = "73519246", "9246"
SHOWA = {"birth_era": "showa", "birth_year": "47", "birth_month": "11", "birth_day": "23"}
TYPED = {"programme": "p2024", "receipt_number": "7351-9246", **SHOWA}
# What of it may show in a page: the number whole or its tail, the birth date's parts.
TRACES = (NUMBER, TAIL, "7351-9246", 'value="47"', 'value="11"', 'value="23"', "47年",
          "1972", "11月23日")


def not_found(app, lang="ja", fast=True, **fields):
    """A not-found answer, asked through the fast path (a urlencoded form) or through
    Pyramid's view (a multipart form: the fast path passes it on)."""
    body = {**TYPED, "lang": lang, **fields}
    if fast:
        return app.post("/lookup", body, status=200)
    return app.post("/lookup", body, status=200, content_type="multipart/form-data")


def form_named(page, action):
    return next(form for form in page.forms.values() if form.action == action)


@pytest.mark.parametrize("lang, programme, number, birth", [
    ("ja", "物価高騰対策給付金", "＊＊＊＊</span>9246", "昭和47年11月23日"),
    ("en", "Price Relief Payment", "＊＊＊＊</span>9246", "23 November 1972 (Showa 47)"),
    ("ja-easy", "物価高騰対策給付金", "＊＊＊＊</span>9246",
     "しょうわ 47<ruby>年<rp>（</rp><rt>ねん</rt><rp>）</rp></ruby><ruby>11月<rp>（</rp>"
     "<rt>じゅういちがつ</rt><rp>）</rp></ruby><ruby>23日<rp>（</rp><rt>にじゅうさんにち</rt>"),
])
def test_not_found_repeats_what_was_typed(mirror, lang, programme, number, birth):
    asked = not_found(mirror, lang).text.split('<dl class="question">')[1].split("</dl>")[0]
    assert programme in asked and number in asked and birth in asked


@pytest.mark.parametrize("fields, shown", [
    ({"birth_era": "western", "birth_year": "1972"}, "1972年11月23日"),
    ({"birth_era": "", "birth_year": "1972"}, "1972年11月23日"),   # a 4-digit year, no era
    ({"birth_era": "reiwa", "birth_year": "元", "birth_month": "5", "birth_day": "1"},
     "令和元年5月1日"),
    ({"birth_era": "heisei", "birth_year": "元年", "birth_month": "1", "birth_day": "8"},
     "平成元年1月8日"),
])
def test_the_birth_date_is_shown_in_the_form_it_was_entered(mirror, fields, shown):
    asked = not_found(mirror, **fields).text.split('<dl class="question">')[1]
    assert shown in asked.split("</dl>")[0]


def test_not_found_offers_the_form_again_filled_in_and_a_correction_finds_it(mirror):
    page = not_found(mirror)
    again = form_named(page, "/lookup")
    assert again["programme"].value == "p2024" and again["receipt_number"].value == NUMBER
    assert (again["birth_era"].value, again["birth_year"].value, again["birth_month"].value,
            again["birth_day"].value) == ("showa", "47", "11", "23")
    # The resident corrects the number and the birth date in place, and asks again.
    again["receipt_number"], again["birth_year"] = "0000-0001", "55"
    again["birth_month"], again["birth_day"] = "4", "1"
    assert "受け付けました" in again.submit(status=200).text


def test_back_to_the_form_keeps_the_input_and_its_language_buttons_keep_it_too(mirror):
    page = not_found(mirror, "en")
    form = form_named(page, "/").submit(status=200)
    assert "Enter your receipt number" in form.text and "Correct what" not in form.text
    assert form.forms[1]["receipt_number"].value == NUMBER   # [0]: the language buttons
    assert form.forms[1]["birth_year"].value == "47"
    assert '<option value="showa" selected>' in form.text
    # Changing language there posts it back to the form again: nothing asked, nothing lost.
    switch = form.forms[0]
    assert switch.action == "/"
    japanese = switch.submit("lang", index=0, status=200)
    assert "受付番号を入力すると" in japanese.text and f'value="{NUMBER}"' in japanese.text


def test_back_to_the_form_asks_nothing_so_costs_nothing(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "1"})
    page = not_found(app)   # the one failure the budget allows
    for _ in range(5):      # going back to fix it, as often as needed, is never refused
        back = form_named(page, "/").submit(status=200)
        assert f'value="{NUMBER}"' in back.text
    # The budget was the one failure's: the next new question is refused.
    assert app.post("/lookup", {**TYPED, "receipt_number": "11111111"}, status=429)


def test_back_to_the_form_from_the_limit_page_keeps_the_input_too(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "1"})
    not_found(app)
    refused = app.post("/lookup", {**TYPED, "receipt_number": "11112222"}, status=429)
    back = form_named(refused, "/").submit(status=200)
    assert 'value="11112222"' in back.text and '<option value="showa" selected>' in back.text


def test_not_found_and_wrong_birth_date_stay_identical_with_the_form_filled_in(mirror):
    wrong_birth = not_found(mirror, receipt_number="00000001")        # the number exists
    no_such = not_found(mirror, receipt_number="00000099")            # it does not
    assert without_proof(wrong_birth.body).replace(b"00000001", b"00000099").replace(
        b"0001", b"0099") == without_proof(no_such.body)


def test_the_fast_path_and_the_view_give_the_same_not_found_page(mirror):
    assert not_found(mirror, fast=True).body == not_found(mirror, fast=False).body


# --- the attacker's tries ---------------------------------------------------------------

def kept_pages(app) -> list[bytes]:
    """Every page the answer cache holds, as kept (before any resident's values)."""
    cache = app.app.services.pages.cache
    return [page.body for page, _parts in cache._pages.values()]


def test_a_kept_page_holds_nothing_typed(mirror):
    for lang in ("ja", "en", "ja-easy"):
        not_found(mirror, lang, fast=True)
        not_found(mirror, lang, fast=False)
    kept = kept_pages(mirror)
    assert len(kept) == 3   # one not-found page per language, whoever asked
    for body in kept:
        text = body.decode()
        assert not [trace for trace in TRACES if trace in text]
        assert "<!--q:receipt-->" in text and "<!--q:birth-shown-->" in text


def test_a_later_visitors_page_holds_nothing_of_an_earlier_ones(mirror):
    not_found(mirror)
    later = mirror.post("/lookup", {"programme": "p2024", "receipt_number": "11111111",
                                    "birth_era": "heisei", "birth_year": "2", "birth_month": "2",
                                    "birth_day": "2", "lang": "ja"}, status=200).text
    assert not [trace for trace in TRACES if trace in later]
    assert "平成2年2月2日" in later and 'value="11111111"' in later


def test_no_url_carries_what_was_typed_so_no_referer_can(mirror):
    for page in (not_found(mirror), form_named(not_found(mirror), "/").submit(status=200)):
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
        urls = re.findall(r'(?:href|action|src|content)="([^"]*)"', page.text)
        assert urls and not [url for url in urls for trace in TRACES if trace in url]
        # Every form that carries it posts it; none sends it in a query string.
        assert all(form.method.lower() == "post" for form in page.forms.values())


def test_no_log_line_holds_what_was_typed_even_when_the_page_fails(mirror, caplog,
                                                                      monkeypatch):
    caplog.set_level(logging.DEBUG)
    for lang in ("ja", "en", "ja-easy"):
        not_found(mirror, lang, fast=True)
        back = form_named(not_found(mirror, lang, fast=False), "/")
        back.submit(status=200)

    def broken(self, question, lang):
        raise ValueError(f"cannot write {question.birth_date} of {question.receipt}")

    monkeypatch.setattr(pages_module.Pages, "birth_entered", broken)
    mirror.app.services.pages.cache._pages.clear()
    failed = mirror.post("/lookup", TYPED, status=500)
    failed_view = mirror.post("/lookup", TYPED, status=500, content_type="multipart/form-data")
    assert "unexpected ValueError" in caplog.text   # the failure is logged: where, not what
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [trace for trace in (*TRACES, "1972-11-23") if trace in logged]
    for page in (failed, failed_view):
        assert not [trace for trace in TRACES if trace in page.text]


def test_the_hosts_files_hold_nothing_typed(public_host):
    public_host.publish()
    app = public_host.app()
    for lang in ("ja", "en", "ja-easy"):
        form_named(not_found(app, lang), "/").submit(status=200)
    services = app.app.services
    services.usage.flush()
    written = [path for path in Path(public_host.root).rglob("*") if path.is_file()]
    assert any("usage" in str(path) for path in written)
    for path in written:
        data = path.read_bytes()
        assert NUMBER.encode() not in data and b"7351-9246" not in data, path
