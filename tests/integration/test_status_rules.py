"""One table of status changes run through the three ways a status changes — the single
change, the bulk change and a status-only import — on a real database: all three agree on
what is allowed, and the single change and the import refuse with the same message."""

from datetime import date

import pytest

from intranet.applications import bulk, services
from intranet.applications.models import Application
from intranet.applications.services import StatusUpdate
from intranet.imports.plan import plan_import
from intranet.programmes.models import Programme
from intranet.statuses import rules
from intranet.statuses.services import load_catalogue
from lab.import_files import csv_text
from tests.conftest import TEST_ACTOR
from tests.factories import make_applications, make_programme

SCHEDULED, PAID = date(2020, 7, 1), date(2020, 7, 10)
REASON = "本人確認書類の写しがありません"

# (from, to, values supplied with the change, the rule's refusal or None)
CASES = [
    ("received", "reviewing", {}, None),
    ("received", "deficient", {}, rules.NEEDS_REASON),
    ("received", "deficient", {"deficiency_reason": REASON}, None),
    ("received", "paid", {"paid_on": PAID}, rules.TRANSITION),
    ("approved", "payment_scheduled", {}, rules.NEEDS_SCHEDULED_DATE),
    ("approved", "payment_scheduled", {"scheduled_payment_on": SCHEDULED}, None),
    ("payment_scheduled", "paid", {}, rules.NEEDS_PAID_DATE),
    ("payment_scheduled", "paid", {"paid_on": PAID}, None),
    ("paid", "reviewing", {}, rules.TRANSITION),
    ("deficient", "approved", {}, rules.TRANSITION),
    ("awaiting_resubmission", "deficient", {}, rules.NEEDS_REASON),
]
COLUMNS = {"scheduled_payment_on": "振込予定日", "paid_on": "振込日", "deficiency_reason": "不備内容"}


def single(dbsession, catalogue, application, to, values):
    try:
        services.change_status(dbsession, TEST_ACTOR, None, catalogue, application,
                               application.version, StatusUpdate(to, **values))
    except rules.StatusChangeRefused as refused:
        return refused.message, refused.mapping
    return None


def in_bulk(dbsession, catalogue, application, to, values):
    try:
        plan = bulk.plan(dbsession, catalogue, [application.id], StatusUpdate(to, **values))
    except rules.StatusChangeRefused as refused:
        return refused.message, refused.mapping
    if plan.refused:
        return rules.TRANSITION, "listed as refused"
    bulk.apply(dbsession, TEST_ACTOR, None, catalogue, [application.id],
               StatusUpdate(to, **values), plan.token)
    return None


def by_import(dbsession, catalogue, application, to, values):
    header = ["受付番号", "状況", *(COLUMNS[name] for name in values)]
    row = [application.receipt_number, catalogue[to].staff_label,
           *(str(v) for v in values.values())]
    data = csv_text([row], header).encode("utf-8")
    programme = dbsession.get(Programme, application.programme_id)
    plan = plan_import(dbsession, catalogue, programme, data, "result.csv")
    assert plan.kind == "status"
    if plan.errors:
        (error,) = plan.errors
        return error.message, error.mapping
    return None


@pytest.mark.parametrize(("from_code", "to", "values", "refusal"), CASES)
def test_single_bulk_and_import_agree(session_factory, dbsession, from_code, to, values, refusal):
    programme = make_programme(session_factory)
    ids = make_applications(session_factory, programme, 3, status=from_code)
    catalogue = load_catalogue(dbsession)
    outcomes = [path(dbsession, catalogue, dbsession.get(Application, app_id), to, values)
                for path, app_id in zip((single, in_bulk, by_import), ids, strict=True)]
    if refusal is None:
        assert outcomes == [None, None, None]
        return
    by_single, by_bulk, imported = outcomes
    assert by_single[0] == refusal and by_bulk[0] == refusal
    assert imported == by_single  # the same message, naming the same statuses


def test_status_only_import_of_deficient_without_reason_says_what_the_screen_says(
        session_factory, dbsession):
    """The bug that started it: 不備あり imported with an empty 不備内容."""
    programme = make_programme(session_factory)
    (app_id,) = make_applications(session_factory, programme, 1)
    catalogue = load_catalogue(dbsession)
    application = dbsession.get(Application, app_id)
    imported = by_import(dbsession, catalogue, application, "deficient", {})
    assert imported == (rules.NEEDS_REASON, {"to_label": catalogue["deficient"].staff_label})
    assert imported == single(dbsession, catalogue, application, "deficient", {})
    assert dbsession.get(Application, app_id).status_code == "received"
