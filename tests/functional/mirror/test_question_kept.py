"""The question as residents ask it: a birth date in 昭和, what was typed kept after an
error, and the answer kept when the language changes — with no number in any URL."""

import re

import pytest

BIRTH_SHOWA = {"birth_era": "showa", "birth_year": "55", "birth_month": "4", "birth_day": "1"}


def ask(app, status="*", **fields):
    return app.post("/lookup", {"programme": "p2024", "receipt_number": "00000001",
                                "lang": "ja", **fields}, status=status)


def test_a_birth_date_in_showa_finds_the_application(mirror):
    assert "受け付けました" in ask(mirror, 200, **BIRTH_SHOWA).text


@pytest.mark.parametrize("lang, text", [
    ("ja", "西暦の年は4けたで入力してください"),
    ("en", "four digits"),
    ("ja-easy", "4けた"),
])
def test_a_two_digit_western_year_is_an_error_saying_what_to_type(mirror, lang, text):
    page = ask(mirror, 400, lang=lang, birth_era="western", birth_year="55", birth_month="4",
               birth_day="1")
    assert text in page.text and 'role="alert"' in page.text


def test_a_date_outside_its_era_names_the_eras_span(mirror):
    page = ask(mirror, 400, birth_era="heisei", birth_year="31", birth_month="5", birth_day="1")
    assert "その日は平成ではありません。平成は1989年1月8日から2019年4月30日までです。" in page.text
    page = ask(mirror, 400, lang="en", birth_era="heisei", birth_year="31", birth_month="5",
               birth_day="1")
    assert "Heisei" in page.text and "8 January 1989" in page.text


def test_after_an_error_the_form_keeps_what_was_typed(mirror):
    page = ask(mirror, 400, receipt_number="0000-0001", birth_era="showa", birth_year="70",
               birth_month="4", birth_day="1")
    assert 'value="0000-0001"' in page.text
    assert '<option value="showa" selected>' in page.text
    assert 'name="birth_year"' in page.text and 'value="70"' in page.text
    assert re.search(r'value="p2024" id="[^"]*" checked', page.text)


def test_typed_text_comes_back_escaped(mirror):
    page = ask(mirror, 400, receipt_number='"><script>x</script>')
    assert "<script>" not in page.text and "&#34;&gt;&lt;script&gt;" in page.text


def test_changing_language_on_an_answer_keeps_the_answer(mirror):
    page = ask(mirror, 200, **BIRTH_SHOWA)
    switch = page.forms[0]    # the language buttons: a POST form, not links
    assert switch.method.lower() == "post" and "00000001" not in switch.action
    english = switch.submit("lang", index=0)   # the first other language: English
    assert english.status_int == 200 and "Received" in english.text
    links = re.findall(r'(?:href|action|src)="([^"]+)"', english.text)
    assert links and not [link for link in links if "0001" in link or "1980" in link]


def test_changing_language_after_an_error_keeps_what_was_typed(mirror):
    page = ask(mirror, 400, receipt_number="0000-0001", birth_era="western", birth_year="80",
               birth_month="4", birth_day="1")
    english = page.forms[0].submit("lang", index=0, status=400)
    assert "four digits" in english.text and 'value="0000-0001"' in english.text


def test_the_api_reads_eras_and_says_what_is_wrong_in_full(mirror):
    body = {"programme": "p2024", "receipt_number": "00000001", **BIRTH_SHOWA}
    assert mirror.post_json("/api/v1/lookup", body).json["result"] == "found"
    wrong = mirror.post_json("/api/v1/lookup", {**body, "birth_year": "70"}, status=400)
    assert wrong.json["errors"]["birth_date"] == "昭和は64年までです。年か元号を確かめてください。"


@pytest.mark.parametrize("lang, line", [("ja", "手続きが必要です"), ("en", "You need to take action"),
                                        ("ja-easy", "する ことが あります")])
def test_a_status_needing_action_stands_out_in_words_not_colour_alone(mirror, lang, line):
    page = mirror.post("/lookup", {"programme": "p2020", "receipt_number": "00000011",
                                   "lang": lang})
    assert 'class="answer action"' in page.text and line in page.text
    assert '<svg class="icon" aria-hidden="true"' in page.text
    calm = mirror.post("/lookup", {"programme": "p2020", "receipt_number": "00000001",
                                   "lang": lang})
    assert "action" not in calm.text.split('<section class="answer')[1][:20] and line not in calm.text
    api = mirror.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "00000011"})
    assert api.json["action_needed"] is True


def test_api_answers_confirm_the_programme_and_the_masked_number(mirror):
    found = mirror.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "0000-0002"})
    assert found.json["programme"] == "p2020"
    assert found.json["receipt_number_masked"] == "＊＊＊＊0002"
    missing = mirror.post_json("/api/v1/lookup", {"programme": "p2020", "receipt_number": "12345678"})
    assert missing.json["result"] == "not_found" and missing.json["receipt_number_masked"] == "＊＊＊＊5678"
