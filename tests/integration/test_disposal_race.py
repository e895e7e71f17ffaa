"""Two second persons approving the same disposal at the same moment, on a real database file
(SQLite) and PostgreSQL: one erases and signs the record, the other is told it is already
handled — the same refusal on both engines, never "database is locked"; never two approvals.
(Through the screens: tests/functional/test_approval_races.py.)"""

import threading
from datetime import date

import transaction
from sqlalchemy import func, select

from intranet.audit.models import AuditRecord
from intranet.audit.writer import utcnow
from intranet.auth.models import SECURITY_OFFICER, SUPERVISOR, User
from intranet.db import get_tm_session
from intranet.disposal import services
from intranet.disposal.models import Disposal
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme
from tests.conftest import TEST_ACTOR
from tests.factories import make_applications, make_programme


def test_two_simultaneous_approvals_erase_once(session_factory, tmp_path):
    programme_id = make_programme(session_factory)
    make_applications(session_factory, programme_id, 20)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        people = [User(username=name, display_name=name, role=role, password_hash="x",
                       created_at=utcnow())
                  for name, role in (("requester", SUPERVISOR), ("second", SUPERVISOR),
                                     ("officer", SECURITY_OFFICER))]
        dbsession.add_all(people)
        programme = dbsession.get(Programme, programme_id)
        lifecycle.close_lookup(dbsession, TEST_ACTOR, programme)
        lifecycle.archive(dbsession, TEST_ACTOR, programme)
        disposal_id = services.request_disposal(
            dbsession, TEST_ACTOR, people[0], programme, override=True,
            reason="議会の決定により保存期間を短縮したため", today=date.today()).id
        approvers = [people[1].id, people[2].id]
    start, outcomes = threading.Barrier(2), []

    def approve(user_id):
        manager = transaction.TransactionManager(explicit=True)
        try:
            with manager:
                dbsession = get_tm_session(session_factory, manager)
                user = dbsession.get(User, user_id)
                disposal = dbsession.get(Disposal, disposal_id)
                start.wait()
                services.decide(dbsession, TEST_ACTOR, user, disposal, approve=True, note="",
                                spool=tmp_path, backup_retention_days=35, today=date.today())
            outcomes.append("approved")
        except services.DisposalRefused as refused:
            outcomes.append(str(refused))

    threads = [threading.Thread(target=approve, args=(user_id,)) for user_id in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == sorted(["approved", services.NOT_PENDING]), outcomes
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        assert dbsession.execute(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.action == "disposal.approve")).scalar_one() == 1
        assert dbsession.get(Disposal, disposal_id).state == "approved"
