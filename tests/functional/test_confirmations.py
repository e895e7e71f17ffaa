"""Every irreversible step confirms: the first press of 照会を終了する, アーカイブする and
承認して廃棄する only says, in words and with the count, what will happen — nothing changes
until the confirmation is pressed."""

from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from intranet.programmes.models import Programme
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme
from tests.functional.test_disposal import (  # noqa: F401  (second_supervisor: the fixture)
    OVERRIDE,
    archived,
    as_user,
    latest_disposal,
    request_disposal,
    second_supervisor,
    step,
)
from tests.visible_text import visible_text


def first_press(app, programme, name):
    page = app.get(f"/programmes/{programme}")
    return app.post(f"/programmes/{programme}/step",
                    {"csrf_token": csrf_token(page), "step": name}, status=200)


def audited(dbsession):
    dbsession.expire_all()
    return dbsession.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars().all()


def test_ending_the_lookup_first_says_how_many_residents_lose_it(as_role, session_factory,
                                                                dbsession):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 2250)
    app = as_role("supervisor")
    before = audited(dbsession)
    shown = first_press(app, programme, "close_lookup")
    words = visible_text(shown.text)
    assert "この事業の 2,250 件の申請は、次回の公開から住民の照会ページに表示されなくなります" in words
    assert "照会の終了は取り消せません" in words and "はい、照会を終了します" in words
    assert 'name="confirmed" value="yes"' in shown.text
    # Nothing changed: the programme is open, nothing audited.
    dbsession.expire_all()
    assert dbsession.get(Programme, programme).lookup_closed_at is None
    assert audited(dbsession) == before
    # The confirmation's own form carries it out.
    assert shown.forms["confirm-step-form"].submit().status_int == 303
    dbsession.expire_all()
    assert dbsession.get(Programme, programme).lookup_closed_at is not None


def test_archiving_first_says_how_many_applications_become_read_only(as_role, session_factory,
                                                                     dbsession):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 3)
    app = as_role("supervisor")
    assert step(app, programme, "close_lookup").status_int == 303
    before = audited(dbsession)
    words = visible_text(first_press(app, programme, "archive").text)
    assert "この事業の 3 件の申請は、状況の変更・一括変更・取込ができなくなります" in words
    assert "アーカイブは取り消せません" in words
    dbsession.expire_all()
    assert dbsession.get(Programme, programme).archived_at is None
    assert audited(dbsession) == before


def test_a_step_out_of_order_is_refused_without_a_confirmation(as_role, session_factory):
    programme = make_programme(session_factory)
    app = as_role("supervisor")
    page = app.get(f"/programmes/{programme}")
    refused = app.post(f"/programmes/{programme}/step",
                       {"csrf_token": csrf_token(page), "step": "archive"}, status=409)
    assert "よろしいですか" not in refused.text


def test_approving_a_disposal_first_says_what_is_erased_from_how_many(
        testapp, session_factory, dbsession, second_supervisor):  # noqa: F811
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 1234)
    app = as_user(testapp, "supervisor")
    archived(app, programme)
    assert request_disposal(app, programme, override=True, reason=OVERRIDE).status_int == 303
    disposal = latest_disposal(dbsession)
    approver = as_user(testapp, second_supervisor)
    page = approver.get(f"/disposals/{disposal.id}")
    shown = approver.post(f"/disposals/{disposal.id}/decision",
                          {"csrf_token": csrf_token(page), "decision": "approve",
                           "note": "課長決裁済み"}, status=200)
    words = visible_text(shown.text)
    assert "1,234 件の申請から、氏名・フリガナ・住所" in words and "元に戻せません" in words
    assert 'name="note" value="課長決裁済み"' in shown.text      # the note is carried over
    assert latest_disposal(dbsession).state == "requested"
    assert dbsession.execute(select(Application.name).limit(1)).scalar_one().startswith("山田")
    # The confirmation's own form carries it out.
    done = shown.forms["confirm-disposal-form"].submit()
    assert done.status_int == 303
    assert latest_disposal(dbsession).state == "approved"
    assert latest_disposal(dbsession).decision_note == "課長決裁済み"
