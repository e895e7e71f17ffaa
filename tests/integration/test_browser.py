"""Staff in a real browser: headless Chromium (Debian's) driven by Playwright.

login → search → change a status → bulk change, with axe-core run over every main screen:
zero WCAG 2.x A/AA violations. Screenshots go to $SHINSEI_SCREENSHOTS when it is set.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import transaction

from intranet.db import get_tm_session
from intranet.demo import seed
from lab.import_files import PEOPLE, encoded
from lab.servers import WaitressThread
from tests.conftest import PASSWORD, TEST_ACTOR
from tests.factories import make_applications, make_programme

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parents[1] / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
pytestmark = pytest.mark.browser


@pytest.fixture
def server(wsgi_app, accounts, session_factory):
    with transaction.manager:
        seed(get_tm_session(session_factory, transaction.manager), TEST_ACTOR, 400, 7)
    # Known applications beside the demo data: 9000-0001 ... 9000-0005, all 受付済.
    programme = make_programme(session_factory, code="browser-test", kinds=True)
    make_applications(session_factory, programme, 5, start=90000001)
    with WaitressThread(wsgi_app) as running:
        yield running


@contextmanager
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make test` (it installs Debian's chromium)")
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make test` (npm ci in tests/browser)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, base_url, width=1280, height=900):
    # The apps' CSP forbids inline script; axe is injected by the test, not by the apps.
    context = browser.new_context(base_url=base_url, bypass_csp=True, locale="ja-JP",
                                  viewport={"width": width, "height": height})
    return context.new_page()


@pytest.fixture
def page(server):
    with chromium() as browser:
        yield new_page(browser, server.url)


def navigate(page, locator):
    """Click something that loads a new page, and wait until it has."""
    with page.expect_navigation():
        locator.click()


def check_accessibility(page, name):
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                           AXE_TAGS)
    shots = os.environ.get("SHINSEI_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/{name}.png", full_page=True)
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in result["violations"]]
    assert problems == [], f"{name}: {problems}"


def sign_in(page, username):
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_login_search_change_and_bulk_change(page):
    page.goto("/login")
    check_accessibility(page, "login")
    sign_in(page, "supervisor")
    page.wait_for_url("**/dashboard")
    check_accessibility(page, "dashboard")

    navigate(page, page.get_by_role("link", name="申請一覧"))
    check_accessibility(page, "list")
    # A number typed the way a resident reads it out: full-width, with a dash.
    page.get_by_label("受付番号").fill("９０００－０００１")
    navigate(page, page.get_by_role("button", name="検索"))
    navigate(page, page.get_by_role("link", name="9000-0001"))
    check_accessibility(page, "detail")

    page.get_by_label("新しい状況").select_option("reviewing")
    page.get_by_label("変更理由・メモ").fill("電話で確認済み")
    navigate(page, page.get_by_role("button", name="変更内容を確認する"))
    check_accessibility(page, "detail-confirm")
    page.get_by_role("button", name="変更する", exact=True).click()
    page.get_by_text("状況を「受付済」から「審査中」に変更しました。").wait_for()
    assert "電話で確認済み" in page.content()

    navigate(page, page.get_by_role("link", name="一括変更"))
    check_accessibility(page, "bulk")
    page.get_by_label("事業").select_option(label="browser-test の給付金")
    page.get_by_label("変更後の状況").select_option("reviewing")
    page.get_by_label("受付番号（1行に1件").fill("90000002\n９０００-０００３\n9000ー0004\n99999999\n")
    navigate(page, page.get_by_role("button", name="プレビュー"))
    check_accessibility(page, "bulk-preview")
    assert "99999999" in page.content()
    page.get_by_role("button", name="3 件の変更を確定する").click()
    page.get_by_text("3 件の状況を変更しました。").wait_for()


def test_other_screens_are_accessible(page, tmp_path):
    sign_in(page, "supervisor")
    page.wait_for_url("**/dashboard")
    for name, path in (("catalogue", "/catalogue"), ("catalogue-edit", "/catalogue/payment_scheduled"),
                       ("programmes", "/programmes"), ("programme-new", "/programmes/new"),
                       ("publications", "/publications"), ("imports", "/imports")):
        page.goto(path)
        check_accessibility(page, name)
    # A dry run with an error and a clean one, as a supervisor sees them.
    page.goto("/imports")
    page.get_by_label("事業").select_option(label="browser-test の給付金")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(encoded([[*PEOPLE[0][:6], "令和2年2月30日", *PEOPLE[0][7:]]]))
    page.get_by_label("CSV・Excel ファイル").set_input_files(str(bad))
    navigate(page, page.get_by_role("button", name="内容を確認する"))
    check_accessibility(page, "imports-dry-run-errors")
    page.get_by_label("事業").select_option(label="browser-test の給付金")
    good = tmp_path / "applicants.csv"
    good.write_bytes(encoded())
    page.get_by_label("CSV・Excel ファイル").set_input_files(str(good))
    navigate(page, page.get_by_role("button", name="内容を確認する"))
    check_accessibility(page, "imports-dry-run")
    page.get_by_role("button", name="この内容で取り込む").click()
    page.get_by_text("を取り込みました").wait_for()
    page.goto("/programmes/new")
    page.locator("#code").fill("browser-names")
    page.locator("#name").fill("物価高騰対策給付金")
    page.locator("#name_easy").fill("{物価|ぶっか}の {給付金|きゅうふきん}")
    navigate(page, page.get_by_role("button", name="プレビュー"))
    check_accessibility(page, "programme-names-preview")
    assert page.locator("#names-preview-title + dl ruby").count() == 2
    page.locator("#name_easy").fill("{物価|bukka}の 給付金")
    navigate(page, page.get_by_role("button", name="プレビュー"))
    check_accessibility(page, "programme-names-error")
    page.goto("/programmes/new")
    navigate(page, page.get_by_role("button", name="English"))
    check_accessibility(page, "programme-new-en")
    page.context.clear_cookies()
    sign_in(page, "security_officer")
    page.wait_for_url("**/audit")
    check_accessibility(page, "audit")
    page.goto("/audit/1")
    check_accessibility(page, "audit-record")
    page.goto("/transfers")
    check_accessibility(page, "transfers")
    page.context.clear_cookies()
    sign_in(page, "admin")
    page.wait_for_url("**/users")
    check_accessibility(page, "users")
    page.goto("/users/new")
    check_accessibility(page, "user-new")
