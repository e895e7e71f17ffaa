"""Staff daily screens at 1366×768 (the usual LGWAN terminal) in Debian's Chromium: the
import's column plan and dry run, finding a caller by name, the single change's confirmation,
the bulk preview's summary and confirm button above the fold; axe-core clean on each.

With SHINSEI_DOC_SCREENSHOTS=<dir> set, each screen is also saved there as the viewport
shows it (docs/screenshots/ holds the committed ones).
"""

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import transaction
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.auth.models import User
from intranet.db import get_tm_session
from intranet.disposal import services as disposal_services
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme
from intranet.publications.job import PublishPlan, publish
from intranet.usage import record
from tests.integration.test_browser import (
    check_accessibility,
    chromium,
    navigate,
    new_page,
    server,  # noqa: F401  (the fixture)
    sign_in,
)
from tests.integration.test_publish import JOB, approved_request
from transfer import usage_counts
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination
from transfer.verify import Origin

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


def bulk_preview(page, numbers):
    """A supervisor's bulk change of browser-test applications to 審査中, previewed."""
    sign_in(page, "supervisor")
    page.wait_for_url("**/dashboard")
    page.goto("/bulk")
    page.get_by_label("事業").select_option(label="browser-test の給付金")
    page.get_by_label("変更後の状況").select_option("reviewing")
    page.get_by_label("受付番号（1行に1件").fill(numbers)
    navigate(page, page.get_by_role("button", name="プレビュー"))


def test_bulk_preview_summary_and_confirm_are_above_the_fold(screen):
    page = screen
    bulk_preview(page, "90000001\n90000002\n99999999\n")
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
    page.get_by_label("氏名・フリガナ").fill("やまだ")
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
def test_the_approver_opens_on_the_pending_request_and_its_changes(screen, session_factory,
                                                                    tmp_path):
    """What a request changes, per programme and status, with 承認 above the fold; the
    demo's first publication delivered, then a bulk change and a programme's lookup ended."""
    approved_request(session_factory, note="初回の公開")   # the browser-test programme too
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    signing = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    _ids, sent = publish(session_factory, PublishPlan(
        [signing], generate_lookup_key(tmp_path / "lookup.key"), Origin("142158", "prod"),
        [OutboxDestination(outbox)], timedelta(hours=72), JOB))
    assert sent and sent[0].delivered
    page = screen
    bulk_preview(page, "90000001\n90000002\n90000003\n")
    navigate(page, page.get_by_role("button", name="3 件の変更を確定する"))
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        second = dbsession.execute(select(Programme).order_by(Programme.id)).scalars().all()[1]
        lifecycle.close_lookup(dbsession, JOB, second)
    page.context.clear_cookies()
    sign_in(page, "staff")
    page.wait_for_url("**/dashboard")
    page.goto("/publications")
    page.get_by_label("依頼のメモ").fill("6月10日分の定例公開")
    navigate(page, page.get_by_role("button", name="公開を依頼する"))
    page.context.clear_cookies()
    sign_in(page, "supervisor")
    page.wait_for_url("**/dashboard")
    page.goto("/publications")
    pending = page.locator("section.pending")
    assert above_the_fold(page, pending.locator("h2"))
    assert above_the_fold(page, pending.locator("ul.summary"))
    shoot(page, "publication-approval")
    assert above_the_fold(page, pending.get_by_role("button", name="承認"))
    text = pending.inner_text()
    assert "照会を終了した事業のため" in text and "受付済 → 審査中" in text
    assert "新たに掲載 0 件" in text and "状況の変更 3 件" in text
    navigate(page, pending.get_by_role("link", name="変更される申請をすべて見る"))
    shoot(page, "publication-changes")


def test_the_dashboard_shows_the_relief_as_a_chart_and_a_table(screen, session_factory):
    """The council's figure: a month of both public hosts' lookups beside the records the
    call centre opened, as an SVG chart with its text and a table; axe-clean."""
    today = usage_counts.today_in_japan()
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programmes = dict(dbsession.execute(select(Programme.code, Programme.id)).all())
        code = next(iter(programmes))
        for host, share in (("public-1", 3), ("public-2", 2)):
            record.replace(dbsession, host, [
                usage_counts.DayCount(today - timedelta(days=n), code, 40 * share + 7 * n,
                                      35 * share + 7 * n, 5 * share, n % 3)
                for n in range(20)], programmes)
    page = screen
    sign_in(page, "supervisor")
    page.wait_for_url("**/dashboard")
    heading = page.get_by_role("heading", name="オンライン照会と問い合わせ対応")
    section = page.locator("section", has=heading).last
    figure = section.locator("svg[role=img]")
    assert figure.locator("title").count() == 1 and section.locator("table").count()
    page.evaluate("y => window.scrollTo(0, y)", heading.bounding_box()["y"] - 16)
    shoot(page, "dashboard-relief")


def _upload(page, tmp_path, name, text):
    page.goto("/imports")
    page.get_by_label("事業").select_option(label="browser-test の給付金")
    source = tmp_path / name
    source.write_bytes(text.encode("cp932"))
    page.get_by_label("CSV・Excel ファイル").set_input_files(str(source))
    navigate(page, page.get_by_role("button", name="内容を確認する"))


def test_a_grouped_refusal_and_a_values_dry_run_read_at_1366x768(screen, tmp_path):
    page = screen
    sign_in(page, "staff")
    page.wait_for_url("**/dashboard")
    # 120 rows, every 4th 不備あり with no 不備内容 column: one line says how many and what to add.
    lines = ["受付番号,氏名,申請日,状況"]
    for n in range(120):
        status = "不備あり（書類返送）" if n % 4 == 3 else "受付済"
        lines.append(f"{71000000 + n},田中　花子{n},令和2年12月{1 + n % 25}日,{status}")
    _upload(page, tmp_path, "申請者一覧_1201.csv", "\r\n".join(lines) + "\r\n")
    grouped = page.locator("#grouped")
    assert "30 行" in grouped.inner_text()
    assert "「不備内容」列を追加して" in grouped.inner_text()
    grouped.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")       # the refusal's heading stays in view
    assert page.get_by_role("button", name="問題の一覧をすべてダウンロード（CSV）").is_visible()
    shoot(page, "import-grouped-refusal")
    page.get_by_role("button", name="取り消す").click()
    page.get_by_text("取込を取り消しました").wait_for()

    # Three registered applications, their address and phone changed: before → after.
    rows = [f"9000-000{n},山田　太郎9000000{n},令和2年6月1日,中央区中央{n}丁目11番15号,"
            f"042-754-111{n}" for n in (1, 2, 3)]
    _upload(page, tmp_path, "住所変更.csv",
            "受付番号,氏名,申請日,住所,電話番号\r\n" + "\r\n".join(rows) + "\r\n")
    changes = page.locator("table", has=page.get_by_text("変更される申請"))
    text = changes.inner_text()
    assert "住所: 中央1丁目1番1号 → 中央区中央1丁目11番15号\n電話番号: 042-000-0000 → 042-754-1111" \
        in text                                        # each field on a line of its own
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")   # the table and 取り込む
    assert above_the_fold(page, changes) and above_the_fold(
        page, page.get_by_role("button", name="この内容で取り込む"))
    shoot(page, "import-values-dry-run")

    # A name whose 山 another program turned into 〓, and an address cut short: imported as
    # the file says, each flagged with the stored value beside the file's.
    _upload(page, tmp_path, "住所変更_2.csv", "受付番号,氏名,申請日,住所\r\n"
            "9000-0001,〓田　太郎90000001,令和2年6月1日,中央区中央1丁目11番15号\r\n"
            "9000-0002,山田　太郎90000002,令和2年6月1日,中央1丁目\r\n")
    flagged = page.locator("#notices")
    text = flagged.inner_text()
    assert "確かめてほしい値 2 件" in text and "「山」が 〓 に変わります" in text
    assert "「1番1号」がなくなります" in text
    flagged.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -160)")
    shoot(page, "import-values-to-check")


def test_the_disposal_record_and_its_print_view_read_in_words(screen, session_factory,
                                                             tmp_path):
    """The 廃棄記録 as the supervisor reads it and as the 文書管理 ledger files it (A4): a
    second programme disposed of early (requested by the supervisor, approved by the
    security officer); every item and status by its Japanese name, no code, no column."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = dbsession.execute(select(Programme).order_by(Programme.id)).scalars().all()[1]
        lifecycle.close_lookup(dbsession, JOB, programme)
        lifecycle.archive(dbsession, JOB, programme)
        users = {user.role: user for user in dbsession.execute(select(User)).scalars()}
        today = date.today()
        disposal = disposal_services.request_disposal(
            dbsession, JOB, users["supervisor"], programme, override=True,
            reason="議会の決定により保存期間を短縮したため（第12号）", today=today)
        disposal_services.decide(dbsession, JOB, users["security_officer"], disposal,
                                 approve=True, note="確認しました", spool=tmp_path / "spool",
                                 backup_retention_days=35, today=today)
        number = disposal.id
    page = screen
    sign_in(page, "supervisor")
    page.wait_for_url("**/dashboard")
    for path, name, media in ((f"/disposals/{number}", "disposal-record", "screen"),
                              (f"/disposals/{number}/print", "disposal-record-print", "print")):
        page.emulate_media(media=media)     # the print view as the printer receives it
        page.goto(path)
        text = page.locator("main").inner_text() if page.locator("main").count() else \
            page.locator("body").inner_text()
        assert "廃棄" in text and "議会の決定" in text, text[:500]
        # Words only: no ASCII identifier (a column or status code) is shown.
        assert not re.findall(r"\b[a-z]+_[a-z_]+\b|\b(?:approved|deficient|received)\b", text), \
            text[:800]
        shoot(page, name)
