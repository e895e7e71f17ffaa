"""The catalogue's resident-facing parts: statuses that need the resident to act."""

from intranet.statuses.models import Status
from tests.conftest import main_form
from transfer.build import _status as snapshot_status


def test_the_default_catalogue_marks_the_statuses_residents_must_act_on(dbsession):
    marked = {s.code for s in dbsession.query(Status) if s.needs_resident_action}
    assert marked == {"deficient", "awaiting_resubmission", "payment_failed"}


def test_a_supervisor_marks_a_status_as_needing_action_and_the_snapshot_carries_it(
        as_role, dbsession):
    app = as_role("supervisor")
    page = app.get("/catalogue/inquiring")
    assert "住民の手続きが必要" in page.text
    form = main_form(page)
    form["needs_resident_action"] = True
    assert form.submit().status_int == 303
    dbsession.expire_all()
    status = dbsession.get(Status, "inquiring")
    assert status.needs_resident_action is True
    assert snapshot_status(status)["action_needed"] is True
    assert snapshot_status(dbsession.get(Status, "received"))["action_needed"] is False
