"""Every export of personal data, the audit and the transfer log is itself audited."""

import json

import transaction
import webtest
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.audit.writer import utcnow
from intranet.db import get_tm_session
from intranet.publications.models import Delivery, Publication
from tests.conftest import login
from tests.factories import make_applications, make_programme


def _exports(dbsession):
    return [(r.actor, r.target, json.loads(r.details)) for r in dbsession.execute(
        select(AuditRecord).where(AuditRecord.action == "export")
        .order_by(AuditRecord.seq)).scalars()]


def test_every_export_names_who_which_filter_and_how_many_rows(testapp, session_factory,
                                                                dbsession):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 3)
    login(testapp, "staff")
    testapp.get("/applications.csv", {"name": "山田", "encoding": "cp932"})
    testapp.get("/history.csv")
    officer = webtest.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.50"})
    login(officer, "security_officer")
    officer.get("/audit.csv", {"action": "login"})
    officer.get("/transfers.csv")
    exports = _exports(dbsession)
    assert [(actor, target) for actor, target, _ in exports] == [
        ("staff", "applications.csv"), ("staff", "history.csv"),
        ("security_officer", "audit.csv"), ("security_officer", "transfers.csv")]
    applications = exports[0][2]
    # A typed name names a person: the chain keeps only that one was given (issue 18); the
    # value sits beside it, under the programme of the applicants found (issue 25).
    assert applications["filter"] == {"encoding": "cp932"}
    assert applications["typed"] == ["name"] and "山田" not in json.dumps(applications)
    assert applications["rows"] == 3 and applications["encoding"] == "cp932"
    assert exports[1][2]["rows"] == 3                      # one history entry each
    assert exports[2][2]["filter"] == {"action": "login"} and exports[2][2]["rows"] == 2


def test_the_transfer_log_downloads_once_deliveries_exist(as_role, session_factory):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        publication = Publication(state="published", requested_at=utcnow(), sequence=7,
                                  sha256="ab" * 32, size=100, entries=3)
        dbsession.add(publication)
        dbsession.flush()
        for n, delivered in enumerate((True, False)):
            dbsession.add(Delivery(publication_id=publication.id, at=utcnow(),
                                   destination=f"outbox:/srv/out{n}", delivered=delivered,
                                   reason="" if delivered else "timed out"))
    body = as_role("security_officer").get("/transfers.csv").body.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 3                                  # header + two deliveries
    assert "outbox:/srv/out0" in body and "timed out" in body and "schedule" in body
