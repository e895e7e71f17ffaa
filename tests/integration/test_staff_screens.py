"""Staff daily screens at 1366×768 (the usual LGWAN terminal) in Debian's Chromium: the
import's column plan and dry run, finding a caller by name, the single change's confirmation,
the bulk preview's summary and confirm button above the fold; axe-core clean on each.

With SHINSEI_DOC_SCREENSHOTS=<dir> set, each screen is also saved there as the viewport
shows it (docs/screenshots/ holds the committed ones).
"""

import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from tests.integration.test_browser import (
    check_accessibility,
    chromium,
    navigate,
    new_page,
    server,  # noqa: F401  (the fixture)
    sign_in,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 1366, 768
VARIANTS = ("受付Ｎｏ．,氏　名,氏名（カナ）,生年月日,住所,連絡先電話番号,受付日,申請区分,処理状況,"
            "メモ,世帯番号\r\n"
            "7000-0001,齋藤　真之介,サイトウ　シンノスケ,昭和55年1月2日,中央区1丁目①番,042-000-0001,"
            "令和2年12月25日,郵送,受付済,㈱相模商事 経由,12\r\n"
            "70000002,山﨑　花子,ヤマザキ　ハナコ,H1.1.8,緑区2-3-4,042-000-0002,R2.12.26,"
            "オンライン,審査中,,13\r\n")


@pytest.fixture
def screen(server):  # noqa: F811  (the fixture imported above)
    with chromium() as browser:
        yield new_page(browser, server.url, WIDTH, HEIGHT)


def shoot(page, name):
    check_accessibility(page, name)
    target = os.environ.get("SHINSEI_DOC_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{target}/{name}.png")


def above_the_fold(page, locator):
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= HEIGHT


def test_import_plan_dry_run_and_search_at_1366x768(screen, tmp_path, session_factory):
    page = screen
    sign_in(page, "staff")
    page.wait_for_url("**/dashboard")
    page.goto("/imports")
    shoot(page, "import-form")
    page.get_by_label("事業").select_option(label="browser-test の給付金")
    source = tmp_path / "申請者一覧.csv"
    source.write_bytes(VARIANTS.encode("cp932"))
    page.get_by_label("CSV・Excel ファイル").set_input_files(str(source))
    navigate(page, page.get_by_role("button", name="内容を確認する"))
    page.locator("#column-plan").scroll_into_view_if_needed()
    assert page.locator("#column-plan").get_by_text("取り込まない").count() == 1
    shoot(page, "import-column-plan")
    page.locator("#dates-read").scroll_into_view_if_needed()
    assert "2020年12月25日" in page.locator("#dates-read").inner_text()
    shoot(page, "import-dry-run")
    page.get_by_role("button", name="この内容で取り込む").click()
    page.get_by_text("を取り込みました").wait_for()

    page.goto("/applications")
    page.get_by_label("氏名・フリガナ・電話番号").fill("斉藤 真之介")
    navigate(page, page.get_by_role("button", name="検索"))
    assert "1 件見つかりました" in page.content() and "齋藤　真之介" in page.content()
    shoot(page, "search")
    with session_factory() as s:
        found = s.execute(select(Application.id).where(
            Application.receipt_number_normalised == "70000001")).scalar_one()
    page.goto(f"/applications/{found}")
    page.get_by_label("新しい状況").select_option("reviewing")
    navigate(page, page.get_by_role("button", name="変更内容を確認する"))
    assert above_the_fold(page, page.get_by_role("button", name="変更する", exact=True))
    shoot(page, "change-confirm")


def test_bulk_preview_summary_and_confirm_are_above_the_fold(screen):
    page = screen
    sign_in(page, "supervisor")
    page.wait_for_url("**/dashboard")
    page.goto("/bulk")
    page.get_by_label("事業").select_option(label="browser-test の給付金")
    page.get_by_label("変更後の状況").select_option("reviewing")
    page.get_by_label("受付番号（1行に1件").fill("90000001\n90000002\n99999999\n")
    navigate(page, page.get_by_role("button", name="プレビュー"))
    assert above_the_fold(page, page.locator("ul.summary"))
    assert above_the_fold(page, page.get_by_role("button", name="2 件の変更を確定する"))
    shoot(page, "bulk-preview")


def test_the_inquiry_desk_screen_is_accessible(screen):
    page = screen
    sign_in(page, "inquiry")
    page.goto("/applications?name=やまだ")
    navigate(page, page.get_by_role("link", name="9000-0001"))
    assert "住所" not in page.content()
    shoot(page, "inquiry-detail")


def test_the_inquiry_desk_sees_what_the_resident_sees(screen, session_factory, tmp_path):
    """The call centre lands on search, finds a caller by a 和暦 birth date as heard on the
    phone, and reads 「公開中の表示」: the resident's answer now, and that a change made
    since appears only after the next publication."""
    from sqlalchemy import update

    from intranet.publications.job import publish
    from tests.integration.test_publish import approved_request, plan
    from transfer.keys import generate_lookup_key, generate_signing_key
    from transfer.transports import OutboxDestination

    keys = (generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub"),
            generate_lookup_key(tmp_path / "lookup.key"))
    (tmp_path / "outbox").mkdir()
    approved_request(session_factory)
    publish(session_factory, plan(keys, [OutboxDestination(tmp_path / "outbox")]))
    page = screen
    sign_in(page, "inquiry")
    page.wait_for_url("**/applications")
    page.get_by_label("氏名・フリガナ・電話番号").fill("やまだ")
    page.get_by_label("生年月日").fill("しょうわ55年1月1日")
    navigate(page, page.get_by_role("button", name="検索"))
    assert "昭和55年1月1日（1980年1月1日）として検索しました" in page.content()
    shoot(page, "inquiry-search-wareki")
    navigate(page, page.get_by_role("link", name="9000-0001"))
    # Beside the record: the call centre changes nothing, so the second column is free.
    assert above_the_fold(page, page.locator("section.residents .resident-answer").first)
    assert "受け付けました" in page.locator("section.residents").inner_text()
    shoot(page, "inquiry-residents-view")
    with session_factory() as s, s.begin():
        s.execute(update(Application).where(Application.receipt_number_normalised == "90000002")
                  .values(status_code="deficient"))
    page.go_back()
    navigate(page, page.get_by_role("link", name="9000-0002"))
    shown = page.locator("section.residents").inner_text()
    assert "次回の公開で反映されます" in shown and "書類に不備があります" in shown
    shoot(page, "inquiry-residents-view-pending")
    # Published with its action details: what is missing and by when, as residents read it.
    with session_factory() as s, s.begin():
        s.execute(update(Application).where(Application.receipt_number_normalised == "90000002")
                  .values(deficiency_kinds=0b1, return_by=date(2099, 1, 31)))
    approved_request(session_factory)
    publish(session_factory, plan(keys, [OutboxDestination(tmp_path / "outbox")]))
    page.reload()
    shown = page.locator("section.residents").inner_text()
    assert "次回の公開で反映されます" not in shown and "2099年1月31日" in shown
    assert "本人確認書類の写し" in shown
    shoot(page, "inquiry-residents-view-action")
