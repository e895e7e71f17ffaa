"""Searching, reading and changing one application."""

import re

import pytest
from sqlalchemy import select

from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme


@pytest.fixture
def programme(session_factory):
    return make_programme(session_factory)


@pytest.fixture
def one(session_factory, programme):
    return make_applications(session_factory, programme, 1, start=12345678)[0]


def change(app, application_id, **form):
    """Ask for the change, then confirm it on the page that shows it before and after."""
    page = app.get(f"/applications/{application_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    data = {"csrf_token": csrf_token(page), "version": version, **form}
    asked = app.post(f"/applications/{application_id}/status", data, expect_errors=True)
    if asked.status_int != 200 or 'id="confirm-change"' not in asked.text:
        return asked
    return app.post(f"/applications/{application_id}/status", {**data, "confirm": "1"},
                    expect_errors=True)


@pytest.mark.parametrize("typed", ["12345678", "１２３４５６７８", "1234-5678", "１２３４－５６７８",
                                   " 1234 5678 ", "1234ー5678", "1234―5678", "1234−5678"])
def test_search_by_receipt_number_in_any_form(as_role, one, typed):
    page = as_role("staff").get("/applications", {"receipt": typed})
    assert "1234-5678" in page.text
    assert "1 件見つかりました" in page.text


def test_search_by_partial_name_and_kana(as_role, session_factory, programme):
    make_applications(session_factory, programme, 3)
    app = as_role("staff")
    assert "3 件見つかりました" in app.get("/applications", {"name": "山田"}).text
    assert "1 件見つかりました" in app.get("/applications", {"name": "ﾀﾛｳ2"}).text


def test_keyset_pages_cover_every_application_once(as_role, session_factory, programme):
    make_applications(session_factory, programme, 120)
    app = as_role("staff")
    seen, url = [], "/applications?sort=receipt&dir=asc"
    while url:
        page = app.get(url)
        seen += re.findall(r">(\d{4}-\d{4})</a>", page.text)
        match = re.search(r'href="http://localhost(/applications\?[^"]+)" rel="next"', page.text)
        url = match and match.group(1).replace("&amp;", "&")
    assert len(seen) == 120 and len(set(seen)) == 120
    assert seen == sorted(seen)


def test_a_malformed_cursor_shows_the_first_page(as_role, one):
    page = as_role("staff").get("/applications", {"after": "not-a-cursor!!"})
    assert "1234-5678" in page.text


def test_detail_shows_the_application_and_its_history(as_role, one):
    page = as_role("staff").get(f"/applications/{one}")
    assert "山田　太郎12345678" in page.text
    assert "受付済" in page.text and "登録" in page.text


def test_change_status_records_history_and_audit(as_role, one, dbsession):
    response = change(as_role("staff"), one, status="reviewing", reason="書類確認開始")
    assert response.status_int == 303
    application = dbsession.get(Application, one)
    assert application.status_code == "reviewing" and application.version == 2
    history = dbsession.execute(select(StatusChange).where(
        StatusChange.application_id == one, StatusChange.source == "manual")).scalar_one()
    assert (history.from_code, history.to_code, history.reason) == ("received", "reviewing",
                                                                      "書類確認開始")
    audit = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.status")).scalar_one()
    assert audit.actor == "staff" and '"status_after":"reviewing"' in audit.details
    # The receipt and the free-text reason sit beside the chain, where disposal can cut them.
    assert "書類確認開始" not in audit.details
    side = dbsession.execute(select(AuditPersonal).where(AuditPersonal.seq == audit.seq)).scalar_one()
    assert side.application_id == one and "書類確認開始" in side.value


def test_disallowed_transition_is_refused_and_changes_nothing(as_role, one, dbsession):
    response = change(as_role("staff"), one, status="paid", paid_on="2020-07-01")
    assert response.status_int == 409
    assert "「受付済」から「振込済」へは変更できません" in response.text
    assert dbsession.get(Application, one).status_code == "received"


def test_a_status_that_needs_a_date_refuses_without_it(as_role, one, session_factory, dbsession):
    app = as_role("staff")
    change(app, one, status="reviewing")
    change(app, one, status="approved")
    response = change(app, one, status="payment_scheduled")
    assert response.status_int == 409
    assert "振込予定日が必要です" in response.text
    assert change(app, one, status="payment_scheduled",
                  scheduled_payment_on="2020-07-10").status_int == 303
    assert dbsession.get(Application, one).scheduled_payment_on.isoformat() == "2020-07-10"


def test_deficiency_needs_its_reason(as_role, one):
    response = change(as_role("staff"), one, status="deficient")
    assert response.status_int == 409 and "不備の内容が必要です" in response.text


def test_a_stale_form_is_refused(as_role, one, dbsession, session_factory):
    app = as_role("staff")
    page = app.get(f"/applications/{one}")
    # Another member of staff changes the record while this form is open.
    with session_factory() as other, other.begin():
        other.get(Application, one).status_code = "inquiring"
        other.get(Application, one).version = 2
    response = app.post(f"/applications/{one}/status", {
        "csrf_token": csrf_token(page), "version": "1", "status": "reviewing"},
        expect_errors=True)
    assert response.status_int == 409
    assert "他の職員によって更新されました" in response.text
    assert dbsession.get(Application, one).status_code == "inquiring"


def test_a_bad_date_names_the_field(as_role, one):
    response = change(as_role("staff"), one, status="reviewing", paid_on="2020-02-30")
    assert response.status_int == 400 and "日付の形式が正しくありません" in response.text


def test_missing_csrf_token_changes_nothing(as_role, one, dbsession):
    app = as_role("staff")
    app.post(f"/applications/{one}/status", {"version": "1", "status": "reviewing"}, status=400)
    assert dbsession.get(Application, one).status_code == "received"


def test_unknown_application_is_404(as_role):
    as_role("staff").get("/applications/999999", status=404)


def test_english_detail(as_role, one):
    app = as_role("staff")
    page = app.get("/applications")
    app.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    detail = app.get(f"/applications/{one}")
    assert "Application details" in detail.text and "Received" in detail.text


def test_a_single_change_is_shown_before_it_is_made_and_said_after(as_role, one, dbsession):
    app = as_role("staff")
    page = app.get(f"/applications/{one}")
    assert '<option value="">選んでください</option>' in page.text
    assert " selected" not in page.text.split('id="status"')[1].split("</select>")[0]
    data = {"csrf_token": csrf_token(page), "version": "1", "status": "reviewing",
            "reason": "書類確認開始"}
    asked = app.post(f"/applications/{one}/status", data)
    confirm_box = asked.text.split('id="confirm-change"')[1].split("</div>")[0]
    assert "受付済 → <strong>審査中</strong>" in confirm_box and "書類確認開始" in confirm_box
    assert dbsession.get(Application, one).status_code == "received"      # nothing yet
    done = app.post(f"/applications/{one}/status", {**data, "confirm": "1"}).follow()
    assert "状況を「受付済」から「審査中」に変更しました" in done.text
    dbsession.expire_all()
    assert dbsession.get(Application, one).status_code == "reviewing"


def test_a_refused_change_is_said_before_any_confirmation(as_role, one):
    app = as_role("staff")
    page = app.get(f"/applications/{one}")
    asked = app.post(f"/applications/{one}/status", {"csrf_token": csrf_token(page),
                                                     "version": "1", "status": "deficient"},
                     status=409)
    assert "不備の内容が必要です" in asked.text and 'id="confirm-change"' not in asked.text
