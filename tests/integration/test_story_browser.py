"""An application's story at 1366×768 in Debian's Chromium, as the security officer reaches
it: the audit search by receipt number (typed full-width with a dash), then the story of a
bulk change, a single change published to one public host of two, and a change not yet
published. axe-core clean on both screens; with SHINSEI_DOC_SCREENSHOTS=<dir> each is saved
there (docs/screenshots/ holds the committed ones)."""

from datetime import timedelta

import pytest

from intranet.publications.job import PublishPlan, publish
from tests.integration.test_browser import navigate, server, sign_in  # noqa: F401
from tests.integration.test_publish import JOB, approved_request
from tests.integration.test_staff_screens import bulk_preview, screen, shoot  # noqa: F401
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination
from transfer.verify import Origin

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser


def change_one(page, receipt, status, reason):
    page.goto("/applications")
    page.get_by_label("受付番号").fill(receipt)
    navigate(page, page.get_by_role("button", name="検索"))
    navigate(page, page.get_by_role("link", name=receipt))
    page.get_by_label("新しい状況").select_option(status)
    page.get_by_label("変更理由・メモ").fill(reason)
    navigate(page, page.get_by_role("button", name="変更内容を確認する"))
    navigate(page, page.get_by_role("button", name="変更する", exact=True))


def test_the_officer_reads_an_applications_story(screen, session_factory,  # noqa: F811
                                                 tmp_path):
    page = screen
    bulk_preview(page, "90000001\n90000002\n90000003\n")
    navigate(page, page.get_by_role("button", name="3 件の変更を確定する"))
    page.context.clear_cookies()
    sign_in(page, "staff")
    page.wait_for_url("**/dashboard")
    change_one(page, "9000-0001", "inquiring", "本人に電話で書類の所在を確認")
    # Published to two public hosts; the second's folder is missing, so it has not arrived.
    approved_request(session_factory, note="定例公開")
    reached = tmp_path / "public-1"
    reached.mkdir()
    publish(session_factory, PublishPlan(
        [generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")],
        generate_lookup_key(tmp_path / "lookup.key"), Origin("142158", "prod"),
        [OutboxDestination(reached), OutboxDestination(tmp_path / "public-2")],
        timedelta(hours=72), JOB))
    change_one(page, "9000-0001", "approved", "審査完了")
    # The staff member sees it from the application's page ...
    navigate(page, page.get_by_role("link", name="この申請の経緯"))
    assert "次回の公開で住民向けページに反映されます" in page.content()
    # ... the security officer from the audit search by receipt number.
    page.context.clear_cookies()
    sign_in(page, "security_officer")
    page.wait_for_url("**/audit")
    page.get_by_label("受付番号").fill("９０００－０００１")
    navigate(page, page.get_by_role("button", name="絞り込む"))
    assert "申請（受付番号 90000001）" in page.content()
    shoot(page, "audit-receipt-search")
    navigate(page, page.get_by_role("link", name="受付番号 9000-0001 の経緯"))
    text = page.inner_text("main")
    assert "受付済 → 審査中" in text and "状況の一括変更" in text
    assert "審査中 → 照会中" in text and "で初めて公開されました" in text
    assert "に届きました" in text and "まだ届いていません" in text
    assert "次回の公開で住民向けページに反映されます" in text
    page.locator("ol.story li.step-carried").scroll_into_view_if_needed()
    shoot(page, "application-story")
