"""An application's story (issue 27 item 2): every change with who, when, from where, the
publication that first carried it and when each public host received it — from the
application's page and from the security officer's audit search by receipt number.
Each kind of change is made through the screens; publications go through the real job."""

import re

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.publications.job import publish
from lab.import_files import encoded, status_file
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme
from tests.functional.test_applications import change
from tests.functional.test_bulk import confirm as bulk_confirm
from tests.functional.test_bulk import preview as bulk_preview
from tests.functional.test_disposal import (
    archived,
    as_user,
    decide,
    latest_disposal,
    request_disposal,
    second_supervisor,  # noqa: F401  (a fixture)
)
from tests.functional.test_imports import confirm as import_confirm
from tests.functional.test_imports import upload
from tests.integration.test_publish import approved_request, keys, plan  # noqa: F401
from tests.visible_text import visible_text
from transfer.transports import OutboxDestination

STAFF_PC = "192.0.2.10"     # the test client's address (tests.conftest)


@pytest.fixture
def one(session_factory, accounts):
    """One application, 0000-0001, received."""
    programme = make_programme(session_factory)
    [application_id] = make_applications(session_factory, programme, 1)
    return programme, application_id


def story_page(app, application_id, status=200):
    return app.get(f"/applications/{application_id}/story", status=status)


def story_text(app, application_id, status=200):
    return visible_text(story_page(app, application_id, status).text)


def steps(app, application_id):
    """The story's steps in the reader's words, oldest first: one card each."""
    cards = story_page(app, application_id).text.split('<li class="card step')[1:]
    return [visible_text("<li" + card.split("</dl>")[0]) for card in cards]


def test_a_single_change_reads_as_who_when_what_and_not_yet_published(testapp, one):
    _programme, application_id = one
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="reviewing", reason="書類確認").status_int == 303
    page = app.get(f"/applications/{application_id}")
    assert f"/applications/{application_id}/story" in page.text     # linked from its page
    text = story_text(app, application_id)
    assert "受付番号 0000-0001 の経緯" in text
    last = steps(app, application_id)[-1]
    assert "状況の変更（個別）" in last and "受付済 → 審査中" in last
    assert "staff user（担当職員）" in last and "書類確認" in last
    assert "まだ公開されていません。次回の公開で住民向けページに反映されます。" in last
    # Staff read the changes; the terminal is the security officer's.
    assert STAFF_PC not in text and "監査記録" not in text


def test_the_officer_sees_the_terminal_explained_and_the_record(testapp, one, dbsession):
    _programme, application_id = one
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="reviewing").status_int == 303
    officer = as_user(testapp, "security_officer")
    last = steps(officer, application_id)[-1]
    assert f"職員の端末（{STAFF_PC}）" in last
    assert "操作した人を表しません" in last          # the server program's OS account, said so
    seq = dbsession.execute(select(AuditRecord.seq).where(
        AuditRecord.action == "application.status")).scalar_one()
    assert f"記録 {seq} 番" in last


def test_a_bulk_change_names_the_batch(testapp, session_factory, accounts):
    programme = make_programme(session_factory)
    ids = make_applications(session_factory, programme, 3)
    app = as_user(testapp, "supervisor")
    done = bulk_confirm(app, bulk_preview(app, programme, "00000001\n00000002",
                                          reason="6月10日 審査開始分"))
    assert done.status_int == 303
    last = steps(app, ids[1])[-1]
    assert "状況の一括変更" in last and "受付済 → 審査中" in last
    assert "この申請を含む 2 件を一度に変更" in last and "6月10日 審査開始分" in last
    assert "supervisor user（監督者）" in last
    # The application not in the batch has no such step.
    assert "状況の一括変更" not in story_text(app, ids[2])


def test_imports_name_the_file_and_what_it_did(testapp, session_factory, accounts, dbsession):
    programme = make_programme(session_factory)
    # A status file moving registered applications is a bulk change: a supervisor's.
    app = as_user(testapp, "supervisor")
    assert import_confirm(app, upload(app, programme, encoded(), name="6月分.csv")).status_int == 303
    moving = status_file([["1234-5678", "審査中", ""]])
    assert import_confirm(app, upload(app, programme, moving, name="審査結果.csv")).status_int == 303
    application_id = dbsession.execute(select(Application.id).where(
        Application.receipt_number_normalised == "12345678")).scalar_one()
    first, second = steps(app, application_id)
    assert "取込による登録" in first and "受付済" in first and "6月分.csv" in first
    assert "新規 3 件" in first
    assert "取込" in second and "受付済 → 審査中" in second and "審査結果.csv" in second
    assert "supervisor user（監督者）" in second


def test_publication_and_each_hosts_arrival(testapp, one, session_factory, keys,  # noqa: F811
                                            tmp_path, dbsession):
    _programme, application_id = one
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="reviewing").status_int == 303
    publication_id = approved_request(session_factory)
    outbox, gone = tmp_path / "outbox", tmp_path / "gone"
    outbox.mkdir()
    publish(session_factory, plan(keys, [OutboxDestination(outbox), OutboxDestination(gone)]))
    # Changed again, and then once more before any publication: the middle one never showed.
    assert change(app, application_id, status="inquiring").status_int == 303
    assert change(app, application_id, status="deficient",
                  deficiency_reason="通帳の写しがない").status_int == 303
    create, reviewing, inquiring, deficient = steps(app, application_id)
    assert f"公開依頼 {publication_id} 番" in reviewing and "で初めて公開されました" in reviewing
    assert "承認: supervisor user" in reviewing
    assert re.search(rf"outbox:{outbox}: \d{{4}}年.* に届きました", reviewing)
    assert f"outbox:{gone}: まだ届いていません" in reviewing
    # Replaced before any publication was requested: never on the residents' page.
    assert "公開される前に次の変更" in create and "公開される前に次の変更" in inquiring
    assert "次回の公開で住民向けページに反映されます" in deficient
    # A pending request is named; the failed host, once it gets the file, is dated.
    second = approved_request(session_factory, note="2回目")
    assert f"公開依頼 {second} 番（転送待ち）に含まれています" in steps(app, application_id)[-1]
    gone.mkdir()
    publish(session_factory, plan(keys, [OutboxDestination(outbox), OutboxDestination(gone)]))
    reviewing, deficient = steps(app, application_id)[1::2]
    assert re.search(rf"outbox:{gone}: \d{{4}}年.* に届きました", reviewing)
    assert f"公開依頼 {second} 番" in deficient


def test_the_desk_reads_the_story_and_its_reading_is_audited(testapp, one, dbsession):
    _programme, application_id = one
    desk = as_user(testapp, "inquiry")
    text = story_text(desk, application_id)
    assert "登録" in text and STAFF_PC not in text
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.view")).scalar_one()
    assert record.target == f"application:{application_id}" and '"page":"story"' in record.details
    assert "0000-0001" not in record.details and "00000001" not in record.details
    # The officer sees the desk's reading as a step of the story, with the screen named.
    officer = as_user(testapp, "security_officer")
    last = steps(officer, application_id)[-1]
    assert "閲覧（問い合わせ対応）" in last and "申請の経緯" in last
    assert "inquiry user（問い合わせ対応）" in last


@pytest.mark.parametrize("role", ["admin"])
def test_roles_without_the_application_are_refused(testapp, one, role):
    _programme, application_id = one
    app = as_user(testapp, role)
    app.get(f"/applications/{application_id}/story", status=403)
    testapp.reset()
    assert "/login" in testapp.get(f"/applications/{application_id}/story",
                                   status=302).location
    as_user(testapp, "staff").get("/applications/999999/story", status=404)


def test_the_officers_search_by_receipt_number_in_any_written_form(testapp, one, dbsession):
    _programme, application_id = one
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="reviewing").status_int == 303
    officer = as_user(testapp, "security_officer")
    for typed in ("0000-0001", "００００－０００１", "00000001", " 0000 0001 "):
        page = officer.get("/audit", {"receipt": typed})
        text = visible_text(page.text)
        assert "状況の変更" in text and "ログイン" not in text.split("監査記録（新しい順）")[1]
        # The target by its receipt number, never 「申請 N 番」.
        assert "申請（受付番号 00000001）" in text and f"申請 {application_id} 番" not in text
        assert f"/applications/{application_id}/story" in page.text
    # Another number: no records, and why an erased one cannot be found.
    text = visible_text(officer.get("/audit", {"receipt": "9999-9999"}).text)
    assert "この受付番号の申請はありません" in text and "該当する記録はありません" in text


def test_the_date_range_includes_both_days_in_japanese_forms(testapp, one):
    _programme, application_id = one
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="reviewing").status_int == 303
    officer = as_user(testapp, "security_officer")
    from intranet.audit.writer import utcnow
    from intranet.programmes.lifecycle import japan_date
    today = japan_date(utcnow())
    reiwa = f"令和{today.year - 2018}年{today.month}月{today.day}日"
    for start, end in [(today.isoformat(), today.isoformat()), (reiwa, reiwa),
                       (f"{today:%Y/%m/%d}", f"{today.year}年{today.month}月{today.day}日")]:
        text = visible_text(officer.get("/audit", {"receipt": "00000001", "from": start,
                                                   "to": end}).text)
        assert "状況の変更" in text, (start, end)
    yesterday = today.fromordinal(today.toordinal() - 1)
    text = visible_text(officer.get("/audit", {"receipt": "00000001",
                                               "to": yesterday.isoformat()}).text)
    assert "該当する記録はありません" in text


@pytest.mark.parametrize("params, message", [
    ({"from": "2026年13月1日"}, "「日付（から）」の「2026年13月1日」はありえない日付です"),
    ({"to": "きのう"}, "「日付（まで）」の「きのう」は日付として読めません"),
    ({"from": "平成32年1月1日"}, "その元号の期間にない日付です"),
    ({"from": "2026-12-06", "to": "2026-12-01"}, "より後になっています"),
    ({"receipt": "!!"}, "「受付番号」の「!!」は受付番号として読めません"),
])
def test_a_search_field_that_cannot_be_read_is_a_specific_error(testapp, accounts, params,
                                                                 message):
    officer = as_user(testapp, "security_officer")
    page = officer.get("/audit", params, status=400)
    assert message in visible_text(page.text)
    assert 'aria-invalid="true"' in page.text
    # The CSV refuses it too, as a page, never a file with no filter applied.
    assert message in visible_text(officer.get("/audit.csv", params, status=400).text)


def test_after_disposal_the_story_says_erased(testapp, session_factory, accounts, dbsession,
                                               second_supervisor):  # noqa: F811
    programme = make_programme(session_factory, retention_years=0)
    [application_id] = make_applications(session_factory, programme, 1)
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="reviewing").status_int == 303
    story_text(as_user(testapp, "inquiry"), application_id)     # audited, beside the chain
    assert dbsession.execute(select(AuditPersonal).where(
        AuditPersonal.application_id == application_id)).first() is not None
    app = as_user(testapp, "supervisor")
    archived(app, programme)
    assert request_disposal(app, programme).status_int == 303
    disposal = latest_disposal(dbsession)
    assert decide(as_user(testapp, "supervisor2"), disposal.id).status_int == 303
    # The desk's reading of the story kept its receipt number beside the chain: cut.
    assert dbsession.execute(select(AuditPersonal).where(
        AuditPersonal.application_id == application_id)).first() is None
    for role in ("staff", "security_officer", "inquiry"):
        text = story_text(as_user(testapp, role), application_id, status=410)
        assert "この申請の個人情報は廃棄しました" in text and f"番号 {disposal.id}" in text
        assert "0000-0001" not in text
    officer = as_user(testapp, "security_officer")
    text = visible_text(officer.get("/audit", {"receipt": "0000-0001"}).text)
    assert "この受付番号の申請はありません" in text
    text = visible_text(officer.get("/audit", {"action": "application.status"}).text)
    assert "受付番号は廃棄済み" in text and "0000-0001" not in text


def test_the_story_reads_as_english_in_the_english_ui(testapp, one):
    _programme, application_id = one
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="reviewing").status_int == 303
    officer = as_user(app, "security_officer")
    officer.post("/language", {"locale": "en", "csrf_token": csrf_token(officer.get("/audit"))})
    text = story_text(officer, application_id)
    for words in ["Story of receipt number 0000-0001", "Status change (one application)",
                  "Received → Under review", "Not published yet", f"Staff PC ({STAFF_PC})",
                  "staff user (Staff)"]:
        assert words in text, words
    assert not re.search(r"[\u3040-\u30ff]", text.replace("テスト市", "")), text


def test_action_details_read_in_words_with_the_kinds_by_name(testapp, session_factory,
                                                             accounts):
    programme = make_programme(session_factory, kinds=True)
    [application_id] = make_applications(session_factory, programme, 1, status="reviewing")
    app = as_user(testapp, "staff")
    assert change(app, application_id, status="deficient", deficiency_reason="裏面のみ",
                  deficiency_kinds=["id_copy", "signature"], documents_sent_on="2026-05-20",
                  return_by="2026-06-10").status_int == 303
    page = app.get(f"/applications/{application_id}")
    assert app.post(f"/applications/{application_id}/action", {
        "csrf_token": csrf_token(page), "version": "2", "deficiency_kinds": ["id_copy"],
        "documents_sent_on": "2026-05-20", "return_by": "2026-06-30",
        "reason": "電話で延長の申し出"}).status_int == 303
    marked, extended = steps(app, application_id)[1:]
    assert "審査中 → 不備あり" in marked
    assert "不備の種類 なし → 本人確認書類の写しがない、署名がない" in marked
    assert "返送期限 — → 2026年6月10日" in marked
    assert "不備の種類・返送期限の変更" in extended and "状況 " not in extended
    assert "返送期限 2026年6月10日 → 2026年6月30日" in extended
    assert "本人確認書類の写しがない、署名がない → 本人確認書類の写しがない" in extended
    assert "電話で延長の申し出" in extended
