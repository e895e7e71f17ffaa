"""The residents' page as elderly and foreign residents use it, in headless Chromium.

At 320, 375 and 1280 px in 日本語, English and やさしい日本語: a birth date in 昭和, a
two-digit year, the wrong programme, a status that needs action and the limit page — each
checked with axe-core (zero WCAG 2.x A/AA violations), for no sideways scrolling, and
photographed to $SHINSEI_SCREENSHOTS. Keyboard alone and 200 % text are checked too.
With $SHINSEI_RECORD_A11Y set, the run's result becomes the accessibility statement's
"last automated check".
"""

import os

import pytest

from public_mirror.statement import record_check
from tests.easy_japanese import unread_kanji
from tests.integration.servers import WaitressThread
from tests.integration.test_browser import check_accessibility, chromium, navigate, new_page
from tests.mirror_fixtures import PROGRAMMES_EASY

pytestmark = pytest.mark.browser
LANGS = ["ja", "en", "ja-easy"]
WIDTHS = [320, 375, 1280]


@pytest.fixture
def servers(public_host):
    public_host.publish(programmes=PROGRAMMES_EASY)   # names in やさしい日本語 with furigana
    with WaitressThread(public_host.app(**{"mirror.rate_limit": "100000"}).app) as main, \
            WaitressThread(public_host.app(**{"mirror.rate_limit": "1"}).app) as strict:
        yield main, strict


def fits(page, name):
    """Nothing runs off the side: no sideways scrolling (WCAG 1.4.10 reflow)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: {overflow}px wider than the screen"


def ask(page, lang, programme, number, birth=None):
    page.goto(f"/?lang={lang}")
    page.locator(f'input[name=programme][value="{programme}"]').check()
    page.locator("#receipt_number").fill(number)
    if birth:
        era, year, month, day = birth
        page.locator("#birth_era").select_option(era)
        page.locator("#birth_year").fill(year)
        page.locator("#birth_month").fill(month)
        page.locator("#birth_day").fill(day)
    navigate(page, page.locator("main button[type=submit]"))


def test_every_resident_state_in_every_language_and_width(servers):
    main, strict = servers
    checked = 0
    with chromium() as browser:
        for width in WIDTHS:
            for lang in LANGS:
                tag = f"residents-{width}-{lang}"
                page = new_page(browser, main.url, width=width)
                page.goto(f"/?lang={lang}")
                states = [("form", None)]
                states.append(("showa", ("p2024", "00000001", ("showa", "55", "4", "1"))))
                states.append(("two-digit-year", ("p2024", "00000001", ("western", "55", "4", "1"))))
                states.append(("wrong-programme", ("p2024", "00000002", ("showa", "55", "4", "1"))))
                states.append(("back-to-form", "main form.back button"))
                states.append(("action-needed", ("p2020", "00000011", None)))
                for state, question in states:
                    if isinstance(question, str):   # a button on the page before
                        navigate(page, page.locator(question))
                    elif question:
                        ask(page, lang, *question)
                    fits(page, f"{tag}-{state}")
                    check_accessibility(page, f"{tag}-{state}")
                    if lang == "ja-easy":   # what the browser shows, read for kanji
                        assert unread_kanji(page.content()) == [], f"{tag}-{state}"
                    checked += 1
                limited = new_page(browser, strict.url, width=width)
                ask(limited, lang, "p2020", "90000001")
                ask(limited, lang, "p2020", "90000002")
                # Back to the form with what was typed: posted, never in a URL.
                assert limited.locator("main form.back").get_attribute("action") == "/"
                fits(limited, f"{tag}-limit")
                check_accessibility(limited, f"{tag}-limit")
                statement = new_page(browser, main.url, width=width)
                statement.goto(f"/accessibility?lang={lang}")
                check_accessibility(statement, f"{tag}-statement")
                checked += 2
    if os.environ.get("SHINSEI_RECORD_A11Y"):
        record_check(checked, 0, "axe-core 4.14.1 (Chromium)")


def test_what_each_state_says(servers):
    main, _ = servers
    with chromium() as browser:
        page = new_page(browser, main.url, width=375)
        ask(page, "ja", "p2024", "00000001", ("showa", "55", "4", "1"))
        page.get_by_text("受け付けました").first.wait_for()
        ask(page, "ja", "p2024", "0000-0001", ("western", "55", "4", "1"))
        assert "西暦の年は4けたで入力してください" in page.content()
        # What was typed is still there.
        assert page.locator("#receipt_number").input_value() == "0000-0001"
        assert page.locator("#birth_year").input_value() == "55"
        ask(page, "ja", "p2024", "00000002", ("showa", "55", "4", "1"))
        text = page.locator("main").inner_text()
        assert "物価高騰対策給付金" in text and "0002" in text and "00000002" not in text
        assert "選んだ給付金の種類" in text
        ask(page, "ja", "p2020", "00000011")
        assert page.locator(".answer.action .action-line").inner_text().strip() == "手続きが必要です"


def test_a_mistake_costs_nothing_in_the_browser(servers):
    """Not found: what was typed is said back and is in the form again; the resident fixes
    the one wrong digit and finds the answer. 入力画面に戻る keeps the input too, and the
    browser's history holds no URL with the number in it."""
    main, _ = servers
    with chromium() as browser:
        page = new_page(browser, main.url, width=375)
        ask(page, "ja", "p2024", "0000-0007", ("showa", "55", "4", "1"))
        asked = page.locator("dl.question").inner_text()
        assert "＊＊＊＊0007" in asked.replace("\n", "") and "昭和55年4月1日" in asked
        again = page.locator("main form.lookup")
        assert again.locator("#receipt_number").input_value() == "00000007"
        assert again.locator("#birth_era").input_value() == "showa"
        assert again.locator("#birth_year").input_value() == "55"
        navigate(page, page.locator("main form.back button"))
        assert page.locator("#receipt_number").input_value() == "00000007"
        assert page.locator("#birth_day").input_value() == "1"
        page.locator("#receipt_number").fill("00000001")
        navigate(page, page.locator("main button[type=submit]"))
        page.get_by_text("受け付けました").first.wait_for()
        history = page.evaluate("history.length")
        assert history >= 3 and "0007" not in page.url and "0001" not in page.url


def test_keyboard_alone_with_an_era_and_a_language_change(servers):
    main, _ = servers
    with chromium() as browser:
        page = new_page(browser, main.url, width=375)
        page.goto("/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.locator('input[name=programme][value="p2024"]').focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "receipt_number"
        page.keyboard.type("0000-0001")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "birth_era"
        page.keyboard.press("ArrowDown")   # keyboard choice of an option in a closed select
        page.locator("#birth_era").select_option("showa")
        for value, field in (("55", "birth_year"), ("4", "birth_month"), ("1", "birth_day")):
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == field
            page.keyboard.type(value)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.get_by_text("受け付けました").first.wait_for()
        # The language buttons are reachable by Tab and keep the answer.
        button = page.locator("nav.languages button", has_text="English")
        button.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.get_by_text("Received").first.wait_for()
        assert "0001" not in page.url and "1980" not in page.url


def test_text_at_200_percent_still_fits(servers):
    main, _ = servers
    with chromium() as browser:
        for lang in LANGS:
            page = new_page(browser, main.url, width=1280)
            page.goto(f"/?lang={lang}")
            # 200 % as a browser's zoom does it: every CSS length doubles.
            page.evaluate("document.documentElement.style.zoom = '200%'")
            fits(page, f"zoom-{lang}")
            assert page.locator("main button[type=submit]").is_visible()
            shots = os.environ.get("SHINSEI_SCREENSHOTS")
            if shots:
                page.screenshot(path=f"{shots}/residents-zoom200-{lang}.png", full_page=True)


def switch_language(page, lang):
    navigate(page, page.locator(f'nav.languages button[value="{lang}"]'))


def test_programme_names_and_language_changes_on_a_not_found_answer(servers, public_host,
                                                                     tmp_path):
    """The changed pages at 320 and 1280 px in each language: the programme's name (furigana
    on やさしい日本語) on /p/<code>, an answer and a not-found answer, and the not-found
    answer changing language more times than the failed-lookup limit (1 here) allows."""
    main, _ = servers
    residents = [(width, lang) for width in (320, 1280) for lang in LANGS]
    with chromium() as browser:
        for resident, (width, lang) in enumerate(residents):
            tag = f"residents-{width}-{lang}-names"
            page = new_page(browser, main.url, width=width)
            page.goto(f"/p/p2024?lang={lang}")
            fits(page, f"{tag}-link")
            check_accessibility(page, f"{tag}-link")
            ask(page, lang, "p2024", "00000001", ("showa", "55", "4", "1"))
            fits(page, f"{tag}-answer")
            check_accessibility(page, f"{tag}-answer")
            name = page.locator("dl.question dd").first
            assert name.locator("ruby").count() == (3 if lang == "ja-easy" else 0)
            # Each resident a budget of their own: one failed lookup.
            strict_app = public_host.app(**{"mirror.rate_limit": "1", "mirror.rate_limit_file":
                                            str(tmp_path / f"limits-{resident}.table")})
            with WaitressThread(strict_app.app) as strict:
                limited = new_page(browser, strict.url, width=width)
                ask(limited, lang, "p2024", "00000002", ("showa", "55", "4", "1"))   # not found
                for other in [code for code in LANGS if code != lang] * 2 + [lang]:
                    switch_language(limited, other)
                    assert "0002" in limited.locator("dl.question").inner_text(), f"{tag}: {other}"
                fits(limited, f"{tag}-not-found")
                check_accessibility(limited, f"{tag}-not-found")
                # The budget is still the one failure's: the next new question is refused.
                ask(limited, lang, "p2024", "00000003", ("showa", "55", "4", "1"))
                assert limited.locator("dl.question").count() == 0
