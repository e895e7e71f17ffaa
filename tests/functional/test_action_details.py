"""Action details on the detail page: 不備の種類, 書類送付日 and 返送期限 set with the status,
changed alone, refused with the field and why — and 不備内容 said, in words, to be internal."""

from datetime import date

import pytest
from sqlalchemy import select

from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme
from tests.functional.test_applications import change

SENT, BY = "2026-05-20", "2026-06-10"


@pytest.fixture
def one(session_factory):
    programme = make_programme(session_factory, kinds=True)
    return make_applications(session_factory, programme, 1, start=12345678, status="reviewing")[0]


def mark_deficient(app, application_id, **form):
    return change(app, application_id, **{
        "status": "deficient", "deficiency_reason": "免許証の写しが裏面のみ",
        "deficiency_kinds": ["id_copy", "signature"], "documents_sent_on": SENT, "return_by": BY,
        **form})


def test_staff_mark_deficient_with_two_kinds_a_sent_date_and_a_deadline(as_role, one, dbsession):
    app = as_role("staff")
    page = app.get(f"/applications/{one}")
    # The internal text says, in words, that residents never read it.
    assert "住民向けページには表示されず、公開データにも含まれません" in page.text
    assert "不備内容（職員用メモ" in page.text
    asked = app.post(f"/applications/{one}/status", {
        "csrf_token": csrf_token(page), "version": "1", "status": "deficient",
        "deficiency_reason": "免許証の写しが裏面のみ", "deficiency_kinds": ["id_copy", "signature"],
        "documents_sent_on": SENT, "return_by": BY})
    # The confirmation shows what residents will read.
    assert "本人確認書類の写しがない、署名がない" in asked.text
    assert mark_deficient(app, one).status_int == 303
    dbsession.expire_all()
    application = dbsession.get(Application, one)
    assert application.status_code == "deficient"
    assert application.deficiency_kinds == 0b101       # bits 0 and 2
    assert (application.documents_sent_on, application.return_by) == (date(2026, 5, 20),
                                                                      date(2026, 6, 10))
    detail = app.get(f"/applications/{one}")
    assert "本人確認書類の写しがない、署名がない" in detail.text
    assert "不備の種類・返送期限の変更" in detail.text


def test_the_deadline_is_extended_without_changing_the_status(as_role, one, dbsession):
    app = as_role("staff")
    mark_deficient(app, one)
    page = app.get(f"/applications/{one}")
    response = app.post(f"/applications/{one}/action", {
        "csrf_token": csrf_token(page), "version": "2", "deficiency_kinds": ["id_copy"],
        "documents_sent_on": SENT, "return_by": "2026-06-30", "reason": "電話で延長の申し出"})
    assert response.status_int == 303
    dbsession.expire_all()
    application = dbsession.get(Application, one)
    assert (application.status_code, application.deficiency_kinds, application.return_by) == (
        "deficient", 0b1, date(2026, 6, 30))
    last = dbsession.execute(select(StatusChange).where(StatusChange.application_id == one)
                             .order_by(StatusChange.id.desc())).scalars().first()
    assert (last.from_code, last.to_code, last.reason) == ("deficient", "deficient", "電話で延長の申し出")
    assert dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.action_details")).scalar_one()


@pytest.mark.parametrize(("form", "status", "words"), [
    # A deadline before the letter was sent: a slip of the keyboard, refused.
    ({"return_by": "2026-05-19"}, 409, "返送期限（2026-05-19）が書類送付日（2026-05-20）より前です"),
    # A kind the programme does not have (a tampered form, another programme's code).
    ({"deficiency_kinds": ["id_copy", "nope"]}, 400, "不備の種類「nope」はこの事業にありません"),
    ({"deficiency_kinds": [f"k{n}" for n in range(200)]}, 400, "不備の種類「k0」はこの事業にありません"),
    ({"return_by": "2099-01-01"}, 400, "ありえない日付です"),
    ({"documents_sent_on": "2026-13-01"}, 400, "日付の形式が正しくありません"),
])
def test_action_details_that_cannot_stand_are_refused_and_nothing_changes(
        as_role, one, dbsession, form, status, words):
    response = mark_deficient(as_role("staff"), one, **form)
    assert response.status_int == status, response.text
    assert words in response.text
    dbsession.expire_all()
    application = dbsession.get(Application, one)
    assert (application.status_code, application.deficiency_kinds) == ("reviewing", 0)


def test_kinds_with_a_status_that_needs_no_action_are_refused(as_role, one, dbsession):
    response = change(as_role("staff"), one, status="approved", deficiency_kinds=["id_copy"],
                      return_by=BY)
    assert response.status_int == 409
    assert "「支給決定」は住民の手続きが必要な状況ではないため" in response.text
    dbsession.expire_all()
    assert dbsession.get(Application, one).status_code == "reviewing"


def test_a_new_round_starts_blank_and_a_move_to_no_action_keeps_them_unpublished(
        as_role, one, dbsession):
    app = as_role("staff")
    mark_deficient(app, one)
    assert change(app, one, status="reviewing").status_int == 303
    dbsession.expire_all()
    assert dbsession.get(Application, one).deficiency_kinds == 0b101   # kept, not published
    # Back to 不備あり: the form starts empty, so the last round's kinds are not carried over.
    page = app.get(f"/applications/{one}")
    assert 'value="id_copy" checked' not in page.text
    assert change(app, one, status="deficient", deficiency_reason="署名漏れ",
                  deficiency_kinds=["signature"]).status_int == 303
    dbsession.expire_all()
    application = dbsession.get(Application, one)
    assert (application.deficiency_kinds, application.return_by) == (0b100, None)


def test_details_alone_cannot_be_set_on_a_status_that_needs_no_action(as_role, one, dbsession):
    app = as_role("staff")
    page = app.get(f"/applications/{one}")
    assert "不備の種類・返送期限の変更" not in page.text
    response = app.post(f"/applications/{one}/action", {
        "csrf_token": csrf_token(page), "version": "1", "deficiency_kinds": ["id_copy"]},
        expect_errors=True)
    assert response.status_int == 409 and "住民の手続きが必要な状況ではない" in response.text


def test_inquiry_staff_read_the_kinds_but_cannot_change_them(as_role, one, session_factory):
    app = as_role("staff")
    mark_deficient(app, one)
    app.reset()
    inquiry = as_role("inquiry")
    page = inquiry.get(f"/applications/{one}")
    assert "本人確認書類の写しがない、署名がない" in page.text and "不備の内容を保存する" not in page.text
    response = inquiry.post(f"/applications/{one}/action", {
        "csrf_token": csrf_token(page), "version": "2"}, expect_errors=True)
    assert response.status_int == 403


def test_moving_on_with_the_form_as_the_page_offers_it_keeps_or_leaves_the_details(
        as_role, one, dbsession):
    """The status form starts with the details empty: sent as it is, 不備あり → 再提出待ち
    keeps what residents read, and 不備あり → 審査中 is no refusal (they stay, unpublished)."""
    app = as_role("staff")
    mark_deficient(app, one)
    empty = {"deficiency_kinds": [], "documents_sent_on": "", "return_by": ""}
    # Between two statuses that need action, a deadline given alone keeps kinds and sent date.
    assert change(app, one, status="awaiting_resubmission",
                  **{**empty, "return_by": "2026-06-30"}).status_int == 303
    dbsession.expire_all()
    application = dbsession.get(Application, one)
    assert (application.deficiency_kinds, application.documents_sent_on,
            application.return_by) == (0b101, date(2026, 5, 20), date(2026, 6, 30))
    assert change(app, one, status="reviewing", **empty).status_int == 303
    dbsession.expire_all()
    application = dbsession.get(Application, one)
    assert (application.status_code, application.deficiency_kinds) == ("reviewing", 0b101)
