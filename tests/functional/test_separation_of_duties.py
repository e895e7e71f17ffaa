"""Separation of duties an administrator cannot walk around (issue 25, item 1).

Each attack an administrator alone tried is performed here, through the screens, and is
refused with the audit record the security officer reads; the two-person path still works.
A new account, a role change and a password reset wait for a second person (another
administrator or a security officer, never the one who asked nor the account itself); the
one-time password is two halves, one shown to each of the two; an administrator's account
never holds a role that reads applicant data.
"""

import json

import pytest
import transaction
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.auth.models import User
from intranet.db import get_tm_session
from intranet.users import services
from tests.conftest import PASSWORD, TEST_ACTOR, login
from tests.factories import make_applications, make_programme
from tests.functional.accounts import (
    ask_account,
    ask_reset,
    ask_role,
    decide_first,
    one_time,
    signed_in,
)


@pytest.fixture
def second_admin(session_factory, accounts):
    """A colleague administrator: the second person an administrator might ask."""
    with transaction.manager:
        services.add_user(get_tm_session(session_factory, transaction.manager), TEST_ACTOR,
                          "admin2", "管理 次郎", "admin", PASSWORD)
    return "admin2"


def _user(dbsession, username) -> User:
    dbsession.expire_all()
    return dbsession.execute(select(User).where(User.username == username)).scalar_one()


def _records(dbsession, *actions):
    dbsession.expire_all()
    rows = dbsession.execute(select(AuditRecord).where(AuditRecord.action.in_(actions))
                             .order_by(AuditRecord.seq)).scalars().all()
    return [(r.actor, r.action, r.target, json.loads(r.details)) for r in rows]


def _refusals(dbsession):
    return [(actor, details["request"], details["reason"]) for actor, _, _, details
            in _records(dbsession, "user.request.refused")]


def test_an_administrator_alone_cannot_make_a_staff_account_and_export_applicants(
        testapp, session_factory, dbsession):
    make_applications(session_factory, make_programme(session_factory), 3)
    admin = signed_in(testapp, "admin", "192.0.2.50")
    first = one_time(ask_account(admin, "kage", "staff", extra={"password": PASSWORD}))
    # The account is there but no one can use it: disabled, no password, not even the one
    # the administrator slipped into the form.
    account = _user(dbsession, "kage")
    assert not account.is_active and account.password_hash == services.UNUSABLE
    for attempt in (first, PASSWORD):
        login(testapp, "kage", attempt, status=401)
    # Approving one's own request, and enabling the account by hand, are refused.
    assert "依頼した本人は承認できません" in decide_first(admin, status=400).text
    form = admin.get(f"/users/{account.id}").forms["account"]
    form["is_active"] = True
    assert "作成が承認されていないアカウント" in form.submit(status=400).text
    login(testapp, "kage", first, status=401)
    admin.get("/applications.csv", status=403)
    assert _refusals(dbsession) == [("admin", "create", "own_request"),
                                    ("admin", "role", "not_approved")]
    failures = _records(dbsession, "login.failure")
    assert [(actor, target) for actor, _, target, _ in failures] == \
        [("kage", f"user:{account.id}")] * 3
    # The two-person path: the officer approves and hands the second half over; the holder
    # types both, chooses a password and reads the list. The administrator never could.
    officer = signed_in(testapp, "security_officer", "192.0.2.51")
    second = one_time(decide_first(officer))
    login(testapp, "kage", first, status=401)
    login(testapp, "kage", first + second)
    testapp.get("/applications.csv", status=302)    # the password change comes first
    assert _records(dbsession, "user.request.approve")[0][:2] == ("security_officer",
                                                                  "user.request.approve")


def test_an_administrator_alone_cannot_make_an_officer_who_approves_their_supervisor_grant(
        testapp, dbsession):
    admin = signed_in(testapp, "admin", "192.0.2.50")
    first = one_time(ask_account(admin, "kansa2", "security_officer"))
    login(testapp, "kansa2", first, status=401)            # the officer cannot sign in
    assert "依頼した本人は承認できません" in decide_first(admin, status=400).text
    assert not _user(dbsession, "kansa2").is_active
    # The grant the officer was to approve: an administrator made supervisor is refused
    # outright, whoever would approve it.
    me = _user(dbsession, "admin")
    refused = ask_role(admin, me.id, "supervisor", status=400)
    assert "自分自身の役割は変更できません" in refused.text
    assert _user(dbsession, "admin").role == "admin"
    assert _refusals(dbsession) == [("admin", "create", "own_request"),
                                    ("admin", "role", "own_account")]
    # A genuine officer can approve the new officer; the new one cannot then approve a
    # request of the administrator's own account (there is none to make: refused above).
    officer = signed_in(testapp, "security_officer", "192.0.2.51")
    second = one_time(decide_first(officer))
    assert _user(dbsession, "kansa2").is_active
    login(testapp, "kansa2", first + second)


def test_an_administrator_cannot_sign_in_as_a_supervisor_by_resetting_their_password(
        testapp, dbsession, second_admin):
    supervisor = signed_in(testapp, "supervisor", "192.0.2.60")
    target = _user(dbsession, "supervisor")
    admin = signed_in(testapp, "admin", "192.0.2.50")
    first = one_time(ask_reset(admin, target.id))
    # Asked, not approved: nothing changed; the half the administrator holds opens nothing.
    supervisor.get("/bulk", status=200)
    login(testapp, "supervisor", first, status=401)
    assert "依頼した本人は承認できません" in decide_first(admin, status=400).text
    # A second reset to get a fresh half is refused while one waits.
    assert "承認待ちの依頼があります" in ask_reset(admin, target.id, status=400).text
    # The supervisor cannot approve a request about their own account (no such screen).
    supervisor.get("/users/grants", status=403)
    # The second administrator approves and sees only the second half.
    colleague = signed_in(testapp, second_admin, "192.0.2.52")
    second = one_time(decide_first(colleague))
    assert "/login" in supervisor.get("/bulk", status=302).location   # sessions ended
    for alone in (first, second, PASSWORD):
        login(testapp, "supervisor", alone, status=401)
    assert login(testapp, "supervisor", first + second).location.endswith("/password")
    assert _refusals(dbsession) == [("admin", "reset", "own_request"),
                                    ("admin", "reset", "pending")]
    asked, approved = (_records(dbsession, "user.request")[-1],
                       _records(dbsession, "user.request.approve")[-1])
    assert asked[0] == "admin" and asked[3]["request"] == "reset"
    assert approved[0] == "admin2" and approved[2] == f"user:{target.id}"


def test_no_one_approves_a_request_about_their_own_account(testapp, dbsession, second_admin):
    officer = _user(dbsession, "security_officer")
    admin = signed_in(testapp, "admin", "192.0.2.50")
    one_time(ask_reset(admin, officer.id))
    refused = decide_first(signed_in(testapp, "security_officer", "192.0.2.51"), status=400)
    assert "自分のアカウントについての依頼は承認できません" in refused.text
    assert _refusals(dbsession) == [("security_officer", "reset", "own_account")]
    decide_first(signed_in(testapp, second_admin, "192.0.2.52"))


def test_an_administrator_holds_no_data_reading_role(testapp, dbsession, second_admin):
    admin = signed_in(testapp, "admin", "192.0.2.50")
    colleague, staff = _user(dbsession, second_admin), _user(dbsession, "staff")
    for role in ("staff", "supervisor", "inquiry"):
        refused = ask_role(admin, colleague.id, role, status=400)
        assert "管理者のアカウントに、申請者の情報を読む役割" in refused.text
    refused = ask_role(admin, staff.id, "admin", status=400)
    assert "申請者の情報を読む役割のアカウントを管理者にはできません" in refused.text
    assert _user(dbsession, second_admin).role == "admin"
    assert _user(dbsession, "staff").role == "staff"
    assert _refusals(dbsession) == [("admin", "role", "admin_data_role")] * 3 + [
        ("admin", "role", "data_role_admin")]
    # A role change between roles that keep the line goes to the second person.
    ask_role(admin, staff.id, "supervisor")
    decide_first(signed_in(testapp, second_admin, "192.0.2.52"), status=303)
    assert _user(dbsession, "staff").role == "supervisor"


def test_the_refusal_reads_in_english_in_the_english_ui(testapp, dbsession, second_admin):
    from tests.conftest import csrf_token

    admin = signed_in(testapp, "admin", "192.0.2.50")
    admin.post("/language", {"locale": "en", "csrf_token": csrf_token(admin.get("/users"))})
    refused = ask_role(admin, _user(dbsession, second_admin).id, "staff", status=400)
    assert "cannot be given a role that reads applicants" in refused.text


def test_the_officer_reads_every_refusal_in_words(testapp, dbsession):
    admin = signed_in(testapp, "admin", "192.0.2.50")
    one_time(ask_account(admin, "kage", "staff"))
    decide_first(admin, status=400)
    officer = signed_in(testapp, "security_officer", "192.0.2.51")
    page = officer.get("/audit", {"action": "user.request.refused"})
    assert "アカウントの変更の拒否（職務の分離）" in page.text
    assert "依頼した本人による承認" in page.text and "アカウントの作成" in page.text
