"""Two people approving the same request at the same moment, through the screens, on a real
database file (SQLite, write-ahead log) and on PostgreSQL: one approval is made, once; the
other person is told in Japanese that it was already handled — never a 500, never
"database is locked" (issue 25: two disposal approvals gave one 500 on SQLite)."""

import threading

import pytest
import transaction
import webtest
from sqlalchemy import func, select

from intranet.audit.models import AuditRecord
from intranet.audit.writer import utcnow
from intranet.auth.models import ADMIN, SUPERVISOR, User
from intranet.db import get_tm_session
from intranet.disposal import services as disposals
from intranet.publications import services as publications
from intranet.users import requests as account_requests
from tests.conftest import csrf_token, login, main_form
from tests.factories import make_applications, make_programme
from tests.functional.accounts import ask_account, one_time
from tests.functional.test_disposal import OVERRIDE, archived, latest_disposal, request_disposal
from tests.functional.test_publications import request_one


@pytest.fixture
def second_persons(session_factory, password_hash, accounts):
    """A second supervisor and a second administrator beside the one account per role."""
    with transaction.manager:
        get_tm_session(session_factory, transaction.manager).add_all([
            User(username=name, display_name=name, role=role, password_hash=password_hash,
                 created_at=utcnow())
            for name, role in (("supervisor2", SUPERVISOR), ("admin2", ADMIN))])


def signed_in(wsgi_app, username):
    app = webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    login(app, username)
    return app


def at_once(monkeypatch, module, name):
    """The real ``module.name``, entered by both racing requests at the same moment (after
    each has loaded what its screen showed, as two people pressing 承認 together)."""
    real, start = getattr(module, name), threading.Barrier(2, timeout=30)

    def together(*args, **kwargs):
        start.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, together)


def race(*posts):
    """Each ``post()`` in a thread of its own, started together; their responses."""
    answers = {}
    threads = [threading.Thread(target=lambda i=i, post=post: answers.update({i: post()}))
               for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return [answers.get(i) for i in range(len(posts))]


def one_made_one_told(answers, made, told, message):
    """One answer ``made``, the other ``told`` with ``message`` on its page."""
    assert None not in answers, "a request raised (a 500 in service)"
    [winner] = [a for a in answers if a.status_int == made]
    [loser] = [a for a in answers if a is not winner]
    assert loser.status_int == told and message in loser.text, loser.text[:2000]
    assert "database is locked" not in loser.text
    return winner


def audited(dbsession, action):
    dbsession.expire_all()
    return dbsession.execute(select(func.count()).select_from(AuditRecord).where(
        AuditRecord.action == action)).scalar_one()


def test_two_simultaneous_disposal_approvals_erase_once_and_tell_the_other(
        wsgi_app, session_factory, dbsession, second_persons, monkeypatch):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 20)
    requester = signed_in(wsgi_app, "supervisor")
    archived(requester, programme)
    assert request_disposal(requester, programme, override=True,
                            reason=OVERRIDE).status_int == 303
    disposal = latest_disposal(dbsession).id
    approvers = [signed_in(wsgi_app, name) for name in ("security_officer", "supervisor2")]
    forms = [{"csrf_token": csrf_token(app.get(f"/disposals/{disposal}")),
              "decision": "approve", "note": "", "confirmed": "yes"} for app in approvers]
    at_once(monkeypatch, disposals, "decide")
    answers = race(*[lambda app=app, form=form: app.post(
        f"/disposals/{disposal}/decision", form, status="*")
        for app, form in zip(approvers, forms, strict=True)])
    one_made_one_told(answers, 303, 409, "この廃棄申請はすでに処理済みです。")
    assert latest_disposal(dbsession).state == "approved"
    assert audited(dbsession, "disposal.approve") == 1


def test_two_simultaneous_publication_approvals_approve_once_and_tell_the_other(
        wsgi_app, session_factory, dbsession, second_persons, monkeypatch):
    make_applications(session_factory, make_programme(session_factory), 5)
    assert request_one(signed_in(wsgi_app, "staff")).status_int == 303
    approvers = [signed_in(wsgi_app, name) for name in ("supervisor", "supervisor2")]
    pages = [app.get("/publications") for app in approvers]
    forms = [{"csrf_token": csrf_token(page), "decision": "approve",
              "digest": page.html.find("input", {"name": "digest"})["value"]}
             for page in pages]
    at_once(monkeypatch, publications, "decide")
    answers = race(*[lambda app=app, form=form: app.post(
        "/publications/1/decision", form, status="*")
        for app, form in zip(approvers, forms, strict=True)])
    one_made_one_told(answers, 303, 409, "この公開依頼はすでに処理されています。")
    assert audited(dbsession, "publication.approve") == 1


def test_two_simultaneous_account_approvals_show_one_second_half(
        wsgi_app, session_factory, dbsession, second_persons, monkeypatch):
    assert len(one_time(ask_account(signed_in(wsgi_app, "admin"), "tanaka"))) == 10
    approvers = [signed_in(wsgi_app, name) for name in ("security_officer", "admin2")]
    forms = [main_form(app.get("/users/grants")) for app in approvers]
    at_once(monkeypatch, account_requests, "decide")
    answers = race(*[lambda form=form: form.submit("decision", value="approve", status="*")
                     for form in forms])
    shown = one_made_one_told(answers, 200, 400, "この依頼はすでに処理されています。")
    assert len(one_time(shown)) == 10
    assert audited(dbsession, "user.request.approve") == 1
