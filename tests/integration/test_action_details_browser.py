"""Action details in headless Chromium: the supervisor's editor (kinds, 返送先, previews),
staff marking an application 不備あり with two kinds and dates, the bulk change, and the
residents' answer in 日本語, English and やさしい日本語 at 320 and 1280 px — each checked with
axe-core (zero WCAG 2.x A/AA violations), for no sideways scrolling on the residents' page,
and photographed to $SHINSEI_SCREENSHOTS."""

import pytest

from lab.mirror_fixtures import EASY_NAMES, PROGRAMMES_V2
from lab.servers import WaitressThread
from tests.integration.test_browser import (
    check_accessibility,
    chromium,
    navigate,
    new_page,
    server,  # noqa: F401  (the staff server fixture)
    sign_in,
)
from tests.integration.test_residents_browser import LANGS, ask, fits

pytestmark = pytest.mark.browser


@pytest.fixture
def residents(public_host):
    programmes = [{**p, "name": {**p["name"], "ja-easy": EASY_NAMES[p["code"]]}}
                  for p in PROGRAMMES_V2]
    public_host.publish(version=2, programmes=programmes)
    with WaitressThread(public_host.app(**{"mirror.rate_limit": "100000"}).app) as running:
        yield running


def test_the_residents_answer_says_what_where_and_by_when(residents):
    with chromium() as browser:
        for width in (320, 1280):
            for lang in LANGS:
                tag = f"residents-{width}-{lang}"
                page = new_page(browser, residents.url, width=width)
                ask(page, lang, "p2020", "00000011")
                details = page.locator(".answer.action .action-details")
                assert details.locator("ul.missing li").count() == 2
                assert details.locator("dl.action-facts > div").count() == 4
                if lang == "ja-easy":
                    assert details.locator("ruby").count() >= 6
                fits(page, f"{tag}-action-details")
                check_accessibility(page, f"{tag}-action-details")
                ask(page, lang, "p2020", "00000012")
                assert page.locator(".action-details .overdue").is_visible()
                fits(page, f"{tag}-action-overdue")
                check_accessibility(page, f"{tag}-action-overdue")


def test_staff_set_kinds_and_dates_and_supervisors_edit_the_catalogue(server):  # noqa: F811
    with chromium() as browser:
        page = new_page(browser, server.url)
        sign_in(page, "supervisor")
        page.wait_for_url("**/dashboard")
        # The catalogue of the demo's first programme, its 返送先 previewed.
        page.goto("/programmes")
        navigate(page, page.get_by_role("link", name="不備の種類と返送先").first)
        check_accessibility(page, "deficiency-kinds")
        navigate(page, page.get_by_role("button", name="プレビュー"))
        assert page.locator("#return-preview-title").is_visible()
        check_accessibility(page, "deficiency-return-preview")
        navigate(page, page.get_by_role("link", name="署名がない"))
        page.locator("#wording\\.ja-easy").fill(
            "{申請書|しんせいしょ}の {署名|しょめい}（{自分|じぶん}で {書|か}く {名前|なまえ}）")
        navigate(page, page.get_by_role("button", name="プレビュー"))
        assert page.locator("#preview-title ~ div[lang=ja] ruby").count() >= 4
        check_accessibility(page, "deficiency-kind-preview")
        page.locator("#wording\\.ja-easy").fill("{申請書|shinseisho}")
        navigate(page, page.get_by_role("button", name="保存する"))
        check_accessibility(page, "deficiency-kind-error")
        # 9000-0001 (受付済) marked 不備あり with two kinds, a sent date and a deadline.
        page.goto("/applications?receipt=90000001")
        navigate(page, page.get_by_role("link", name="9000-0001"))
        page.get_by_label("新しい状況").select_option("deficient")
        page.locator("#status-action-hint").wait_for()
        page.get_by_label("本人確認書類の写しがない").check()
        page.get_by_label("署名がない").check()
        page.locator("#status-documents_sent_on").fill("2026-05-20")
        page.locator("#status-return_by").fill("2026-06-10")
        page.get_by_label("不備内容（職員用メモ").fill("免許証の写しが裏面のみ")
        check_accessibility(page, "detail-action-form")
        navigate(page, page.get_by_role("button", name="変更内容を確認する"))
        assert "本人確認書類の写しがない、署名がない" in page.locator("#confirm-change").inner_text()
        check_accessibility(page, "detail-action-confirm")
        navigate(page, page.get_by_role("button", name="変更する", exact=True))
        page.get_by_text("不備の種類・返送期限の変更").first.wait_for()
        check_accessibility(page, "detail-action-set")
        # The deadline moved on, the status kept.
        page.locator("#action-return_by").fill("2026-06-30")
        navigate(page, page.get_by_role("button", name="不備の内容を保存する"))
        page.get_by_text("不備の種類・書類送付日・返送期限を変更しました").wait_for()
        # The bulk change, by name, previewed.
        page.goto("/bulk")
        page.get_by_label("事業").select_option(label="browser-test の給付金")
        page.get_by_label("変更後の状況").select_option("deficient")
        page.get_by_label("不備の種類", exact=True).fill("記入漏れ、signature")
        page.get_by_label("返送期限").fill("2026-06-30")
        page.get_by_label("不備内容（職員用メモ").fill("一斉確認")
        page.get_by_label("受付番号（1行に1件").fill("90000002\n90000003\n")
        navigate(page, page.get_by_role("button", name="プレビュー"))
        assert "署名がない、記入漏れ" in page.locator("#preview-heading + ul").inner_text()
        check_accessibility(page, "bulk-action-preview")
