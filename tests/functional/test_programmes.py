"""Programmes: created and edited by supervisors, audited."""

from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.programmes.models import Programme
from tests.conftest import main_form


def test_supervisor_creates_and_edits_a_programme(as_role, dbsession):
    app = as_role("supervisor")
    form = main_form(app.get("/programmes/new"))
    form["code"] = "bukka-2024"
    form["name"] = "物価高騰対策給付金"
    form["needs_birth_date"] = True
    form["lookup_opens_on"] = "2024-07-01"
    assert form.submit().status_int == 303
    programme = dbsession.execute(select(Programme)).scalar_one()
    assert programme.needs_birth_date and programme.lookup_opens_on.isoformat() == "2024-07-01"

    form = main_form(app.get(f"/programmes/{programme.id}"))
    form["name"] = "物価高騰対策給付金（令和6年度）"
    assert form.submit().status_int == 303
    actions = dbsession.execute(select(AuditRecord.action).where(
        AuditRecord.action.startswith("programme."))).scalars().all()
    assert actions == ["programme.create", "programme.update"]


def test_bad_programme_input_is_named(as_role, dbsession):
    form = main_form(as_role("supervisor").get("/programmes/new"))
    form["code"] = "Bad Code!"
    form["name"] = ""
    form["lookup_opens_on"] = "2024-07-01"
    form["lookup_closes_on"] = "2024-06-01"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400
    for field in ("code-error", "name-error", "lookup_closes_on-error"):
        assert f'id="{field}"' in response.text
    assert dbsession.execute(select(Programme)).first() is None
