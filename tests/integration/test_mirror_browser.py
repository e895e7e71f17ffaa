"""The residents' page in headless Chromium: keyboard only, phone and desktop widths, and
axe-core over every page state in every language — zero WCAG 2.x A/AA violations."""

import pytest

from lab.servers import WaitressThread
from tests.integration.test_browser import check_accessibility, chromium, navigate, new_page

pytestmark = pytest.mark.browser
LANGS = ["ja", "en", "ja-easy"]


@pytest.fixture
def mirror_server(public_host):
    public_host.publish()
    with WaitressThread(public_host.app(**{"mirror.rate_limit": "1"}).app) as server:
        yield server


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


def test_keyboard_only_lookup(mirror_server, browser):
    page = new_page(browser, mirror_server.url, width=375)
    page.goto("/")
    # Skip link first, then the language links, then the form: all reachable by Tab.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.locator("#programme").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "receipt_number"
    page.keyboard.type("０ ０００－０００２")
    page.keyboard.press("Enter")
    page.get_by_text("振込予定です").wait_for()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", [375, 1280])
def test_every_state_is_accessible(mirror_server, browser, lang, width):
    page = new_page(browser, mirror_server.url, width=width)
    tag = f"mirror-{lang}-{width}"
    page.goto(f"/?lang={lang}")
    check_accessibility(page, f"{tag}-form")
    # Only failed lookups count: the one not found meets the limit of 1, so the next is refused.
    for number, state in (("", "errors"), ("0000-0002", "answer"), ("9999-9999", "not-found"),
                          ("9999-9998", "too-many")):
        page.goto(f"/?lang={lang}")
        page.locator("#programme").check()
        page.locator("#receipt_number").fill(number)
        navigate(page, page.locator("button[type=submit]"))
        check_accessibility(page, f"{tag}-{state}")


def test_updating_and_maintenance_pages_are_accessible(public_host, browser):
    with WaitressThread(public_host.app().app) as server:
        for lang in LANGS:
            page = new_page(browser, server.url, width=375)
            page.goto(f"/?lang={lang}")
            check_accessibility(page, f"mirror-{lang}-updating")
    public_host.publish()
    with WaitressThread(public_host.app(**{"mirror.maintenance": "true"}).app) as server:
        for lang in LANGS:
            page = new_page(browser, server.url, width=375)
            page.goto(f"/?lang={lang}")
            check_accessibility(page, f"mirror-{lang}-maintenance")
