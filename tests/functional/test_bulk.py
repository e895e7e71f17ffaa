"""Bulk change: paste → preview → confirm, all or nothing."""

import re

import pytest
from sqlalchemy import func, select

from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme


@pytest.fixture
def batch(session_factory):
    programme = make_programme(session_factory)
    ids = make_applications(session_factory, programme, 6)
    return programme, ids


def preview(app, programme, numbers, status="reviewing", **extra):
    page = app.get("/bulk")
    form = {"csrf_token": csrf_token(page), "programme": str(programme), "status": status,
            "numbers": numbers, "preview": "1", **extra}
    return app.post("/bulk", form, expect_errors=True)


def confirm(app, response):
    token = re.search(r'name="token" value="([0-9a-f]+)"', response.text).group(1)
    form = {name: value for name, value in re.findall(
        r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', response.text)}
    form.update({"token": token, "confirm": "1"})
    return app.post("/bulk", form, expect_errors=True)


def statuses(dbsession):
    return dict(dbsession.execute(select(Application.receipt_number_normalised,
                                         Application.status_code)).all())


def test_preview_lists_what_will_and_will_not_change(as_role, batch, dbsession):
    programme, _ids = batch
    app = as_role("supervisor")
    before = statuses(dbsession)
    pasted = "00000001\n０００００００２\n0000-0003\n00000003\n99999999\nこれは番号ではない\n"
    response = preview(app, programme, pasted)
    assert response.status_int == 200
    text = response.text
    assert "<strong>3</strong>" in text          # three distinct known numbers
    assert "99999999" in text                   # unknown
    assert "これは番号ではない" in text         # unreadable, with its line number
    assert "6 行目" in text
    assert "3 件の変更を確定する" in text
    assert statuses(dbsession) == before        # a preview writes nothing


def test_confirm_applies_every_change_with_history_and_one_audit_record(as_role, batch, dbsession):
    programme, _ids = batch
    app = as_role("supervisor")
    response = confirm(app, preview(app, programme, "00000001\n00000002\n00000003",
                                    reason="6月10日 審査開始分"))
    assert response.status_int == 303
    after = statuses(dbsession)
    assert [after[f"{n:08d}"] for n in (1, 2, 3, 4)] == ["reviewing"] * 3 + ["received"]
    history = dbsession.execute(select(func.count()).select_from(StatusChange).where(
        StatusChange.source == "bulk")).scalar_one()
    assert history == 3
    audit = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.bulk_status")).scalar_one()
    assert '"changed":3' in audit.details


def test_disallowed_transitions_are_listed_and_left_alone(as_role, batch, dbsession):
    programme, _ids = batch
    app = as_role("supervisor")
    response = preview(app, programme, "00000001\n00000002", status="paid", paid_on="2020-07-01")
    assert "件は今の状況から変更できません" in response.text
    assert "件の変更を確定する" not in response.text


def test_missing_date_is_refused_before_anything(as_role, batch, dbsession):
    programme, _ids = batch
    app = as_role("supervisor")
    response = preview(app, programme, "00000001", status="payment_scheduled")
    assert response.status_int == 400
    assert "振込予定日が必要です" in response.text


def test_records_changed_after_preview_make_the_confirm_change_nothing(
        as_role, batch, dbsession, session_factory):
    programme, ids = batch
    app = as_role("supervisor")
    previewed = preview(app, programme, "00000001\n00000002")
    # Someone else moves one of them on before the supervisor confirms.
    with session_factory() as other, other.begin():
        other.get(Application, ids[1]).status_code = "withdrawn"
    before = statuses(dbsession)
    response = confirm(app, previewed)
    assert response.status_int == 400
    assert "プレビューの後に対象の申請が更新されました" in response.text
    assert statuses(dbsession) == before


def test_oversized_paste_is_refused(as_role, batch, wsgi_app):
    programme, _ids = batch
    app = as_role("supervisor")
    limit = wsgi_app.registry.settings["bulk.max_numbers"]
    response = preview(app, programme, "\n".join(f"{n:08d}" for n in range(limit + 1)))
    assert response.status_int == 400
    assert "多すぎます" in response.text


def test_selection_from_the_list_fills_the_paste_box(as_role, batch):
    _programme, ids = batch
    app = as_role("supervisor")
    page = app.get("/applications")
    response = app.post("/bulk/selection", {"csrf_token": csrf_token(page),
                                             "ids": [str(i) for i in ids[:2]]})
    assert "0000-0001" in response.text and "0000-0002" in response.text


def test_staff_cannot_bulk_change(as_role, batch):
    programme, _ids = batch
    app = as_role("staff")
    page = app.get("/applications")
    app.post("/bulk", {"csrf_token": csrf_token(page), "programme": str(programme),
                       "status": "reviewing", "numbers": "00000001"}, status=403)
