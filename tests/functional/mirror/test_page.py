"""The residents' page through WebTest: every state, every language."""

import re
from datetime import timedelta

import pytest

from lab.mirror_fixtures import PROGRAMMES, without_proof
from public_mirror.contrast import ContrastError
from transfer.snapshot import parse_time

LANGS = ["ja", "en", "ja-easy"]


def ask(app, number, programme="p2020", lang="ja", status=None, **extra):
    form = {"programme": programme, "receipt_number": number, "lang": lang, **extra}
    return app.post("/lookup", form, status=status or "*")


@pytest.mark.parametrize("lang", LANGS)
def test_form_in_every_language(mirror, lang):
    page = mirror.get("/", {"lang": lang})
    assert page.status_int == 200
    assert f'<html lang="{"ja" if lang == "ja-easy" else lang}">' in page.text
    assert 'name="receipt_number"' in page.text and 'name="birth_year"' in page.text
    assert "<script" not in page.text


@pytest.mark.parametrize("typed", ["00000002", "０００００００２", "0000-0002", "0000－0002",
                                   " 0000 0002 ", "0000ー0002"])
def test_found_in_any_width_and_dash(mirror, typed):
    page = ask(mirror, typed, status=200)
    assert "振込予定です" in page.text and "口座をご確認ください。" in page.text
    assert "2020年7月10日" in page.text
    assert "時点のものです" in page.text


@pytest.mark.parametrize("lang, label", [("en", "Payment scheduled"),
                                         ("ja-easy", "ふりこむ <ruby>日")])
def test_answer_in_the_residents_language(mirror, lang, label):
    assert label in ask(mirror, "00000002", lang=lang, status=200).text


def test_not_found_and_wrong_birth_date_are_identical(mirror):
    wrong_birth = ask(mirror, "00000001", programme="p2024", birth_year="1980", birth_month="4",
                      birth_day="2")
    no_such = ask(mirror, "00000099", programme="p2024", birth_year="1980", birth_month="4",
                  birth_day="2")
    assert wrong_birth.status_int == no_such.status_int == 200
    # The same page; only each resident's own number (masked, and in the language buttons)
    # and the buttons' proof of a repeat, a MAC over the question alone, not the answer.
    assert without_proof(wrong_birth.body).replace(b"00000001", b"00000099").replace(
        b"0001", b"0099") == without_proof(no_such.body)
    right = ask(mirror, "00000001", programme="p2024", birth_year="１９８０", birth_month="4",
                birth_day="1")
    assert "受け付けました" in right.text


def test_the_number_is_shown_masked_and_never_in_a_link(mirror):
    for number, tail, forms in (("00000002", "0002", 1), ("0000-0077", "0077", 3)):
        page = ask(mirror, number)
        assert f"＊＊＊＊</span>{tail}" in page.text
        # Whole, it is only a value of the fields posted again: the language buttons', and
        # after "not found" the form filled in and 「入力画面に戻る」 (POST bodies, never a URL).
        held = re.findall(r"<input[^>]*0000" + tail + r"[^>]*>", page.text)
        assert len(held) == page.text.count(f"0000{tail}") == forms
        assert all('name="receipt_number"' in field for field in held)
        links = re.findall(r'(?:href|action|src)="([^"]+)"', page.text)
        assert not [link for link in links if tail in link]


@pytest.mark.parametrize("form, field", [
    ({"receipt_number": ""}, "受付番号を入力してください"),
    ({"receipt_number": "これは番号"}, "お手元の通知に書かれた数字"),
    ({"receipt_number": "00000001", "programme": ""}, "給付金の種類を選んでください"),
    ({"receipt_number": "00000001", "programme": "p2024"}, "生年月日を入力してください"),
    ({"receipt_number": "00000001", "programme": "p2024", "birth_year": "1980",
      "birth_month": "2", "birth_day": "30"}, "2月30日という日はありません"),
])
def test_bad_input_names_the_field(mirror, form, field):
    page = mirror.post("/lookup", {"programme": "p2020", "lang": "ja", **form}, status=400)
    assert field in page.text and 'role="alert"' in page.text


def test_no_snapshot_yet_says_updating(public_host):
    page = public_host.app().get("/", status=503)
    assert "情報を更新しています" in page.text


def test_expired_snapshot_is_not_shown_as_current(public_host):
    # The receiver refuses expired files, so let the active one expire while it serves: the
    # desk's clock moved to the moment it expires.
    public_host.publish(valid=timedelta(seconds=2))
    app = public_host.app()
    desk = app.app.services.desk
    expires = parse_time(desk.snapshots.current().header["expires_at"])
    desk.clock = lambda: expires - timedelta(microseconds=1)
    assert app.get("/").status_int == 200
    desk.clock = lambda: expires
    assert "情報を更新しています" in app.get("/", status=503).text
    assert "情報を更新しています" in app.post("/lookup", {"receipt_number": "00000002",
                                                         "programme": "p2020"}, status=503).text


def test_maintenance_page(public_host):
    public_host.publish()
    page = public_host.app(**{"mirror.maintenance": "true"}).get("/", status=503)
    assert "メンテナンス中" in page.text


def test_closed_programme(public_host):
    closed = [{**programme, "lookup_closes_on": "2021-03-31"} for programme in PROGRAMMES]
    public_host.publish(programmes=closed)
    app = public_host.app()
    assert "受付期間外" in app.get("/").text
    page = app.post("/lookup", {"programme": "p2020", "receipt_number": "00000002"}, status=200)
    assert "受付期間外です" in page.text and "振込予定です" not in page.text


def test_enumeration_is_stopped_with_a_429_in_the_residents_language(mirror):
    for n in range(20):   # guessing: nearly every number fails, and failures are counted
        ask(mirror, f"9{n:07d}", status=200)
    refused = ask(mirror, "00000002", lang="en", status=429)
    assert int(refused.headers["Retry-After"]) > 0
    assert "Please wait" in refused.text
    # Back to the form with what was typed, posted (no number in a URL).
    back = next(form for form in refused.forms.values() if form.action == "/")
    assert back.action == "/" and back["receipt_number"].value == "00000002"
    assert back["lang"].value == "en" and "Back to the form" in refused.text


def test_a_family_checking_a_few_numbers_is_not_stopped(mirror):
    for n in (1, 2, 3, 4):
        assert ask(mirror, f"{n:08d}").status_int == 200


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(public_host):
    public_host.publish()
    direct = public_host.app(**{"mirror.rate_limit": "2"})
    for n in range(2):
        direct.post("/lookup", {"programme": "p2020", "receipt_number": "90000001"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"})
    # Spoofed headers from an untrusted client do not buy more lookups.
    direct.post("/lookup", {"programme": "p2020", "receipt_number": "90000001"},
                headers={"X-Forwarded-For": "203.0.113.99"}, status=429)
    proxied = public_host.app(**{"mirror.rate_limit": "2",
                                 "mirror.trusted_proxies": "198.51.100.7"})
    for n in range(6):
        proxied.post("/lookup", {"programme": "p2020", "receipt_number": "90000001"},
                     headers={"X-Forwarded-For": f"203.0.113.{n}"}, status=200)


def test_security_headers_and_no_cookies(mirror):
    page = mirror.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp.replace("default-src 'none'", "")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in page.headers
    assert "Set-Cookie" not in ask(mirror, "00000002").headers
    assert "http" not in page.text.replace("http://localhost", "")  # no third-party origin


def test_low_contrast_colours_are_refused_at_start_up(public_host):
    with pytest.raises(ContrastError, match=r"4\.5:1"):
        public_host.app(**{"site.colour_brand": "#7a9cc6", "site.colour_text": "#ffffff"})


def test_theme_carries_the_configured_colours(public_host):
    public_host.publish()
    css = public_host.app(**{"site.colour_brand": "#1d4f2b"}).get("/theme.css")
    assert "#1d4f2b" in css.text and css.content_type == "text/css"


def test_municipality_logo_and_notice_from_configuration(public_host):
    logo = public_host.root / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    public_host.publish()
    app = public_host.app(**{"site.logo": str(logo), "site.notice": "12月28日から1月3日は更新しません。",
                           "site.notice.en": "No updates from 28 December to 3 January.",
                           "site.notice.ja-easy": "12月28日から 1月3日までは 新しく しません。"})
    page = app.get("/")
    assert 'class="logo"' in page.text and 'alt="テスト市"' in page.text
    assert "12月28日から1月3日は更新しません。" in page.text
    image = app.get("/logo")
    assert image.content_type == "image/png" and image.body.startswith(b"\x89PNG")


def test_a_programme_whose_lookup_ended_says_so_and_whom_to_contact(public_host):
    # The intranet marks a closed programme "lookup_ended" in the header, with a contact;
    # even an entry still in the body (an older intranet) is never answered.
    ended = [{**PROGRAMMES[0], "lookup_ended": True, "contact": "福祉課 0120-111-222"},
             PROGRAMMES[1]]
    public_host.publish(programmes=ended)
    app = public_host.app()
    page = ask(app, "00000002", status=200)
    assert "照会は終了しました" in page.text and "福祉課 0120-111-222" in page.text
    assert "振込予定です" not in page.text
    assert "Status lookup has ended" in ask(app, "00000002", lang="en", status=200).text
    # The other programme still answers.
    other = ask(app, "00000001", programme="p2024", birth_year="1980", birth_month="4",
                birth_day="1", status=200)
    assert "受け付けました" in other.text


@pytest.mark.parametrize("lang, ended, other_closed", [
    ("ja", "照会は終了しました", "受付期間外"),
    ("en", "Status lookup has ended", "not open for checking now"),
    ("ja-easy", "しらべる ことは おわりました", "いまは しらべられません")])
def test_the_form_names_an_ended_lookup_as_ended_with_whom_to_call(public_host, lang, ended,
                                                                   other_closed):
    # Ended for good (the intranet closed it) is not "not open now": the choice says so and
    # gives the programme's contact; a programme merely outside its dates keeps its words.
    programmes = [{**PROGRAMMES[0], "lookup_ended": True, "contact": "福祉課 0120-111-222"},
                  {**PROGRAMMES[1], "lookup_closes_on": "2021-03-31"}]
    public_host.publish(programmes=programmes)
    page = public_host.app().get("/", {"lang": lang}).text
    first, second = page.split('value="p2020"', 1)[1].split('value="p2024"', 1)
    assert f"（{ended}）" in first and other_closed not in first
    assert "福祉課 0120-111-222" in first
    assert f"（{other_closed}）" in second and ended not in second


def test_a_single_programme_whose_lookup_ended_says_so_on_the_form(public_host):
    public_host.publish(programmes=[{**PROGRAMMES[0], "lookup_ended": True,
                                     "contact": "福祉課 0120-111-222"}])
    page = public_host.app().get("/").text
    assert "この給付金の状況の照会は終了しました。" in page and "福祉課 0120-111-222" in page
