"""Account administration: administrators only, every change audited."""

from datetime import timedelta

import webtest
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.auth.models import User
from tests.conftest import PASSWORD, login, main_form
from tests.functional.accounts import ask_account, ask_reset, decide_first, one_time, signed_in


def _account(admin, officer, username, role="staff"):
    """An account asked for by the administrator and approved by the officer: both halves."""
    first = one_time(ask_account(admin, username, role))
    return first, one_time(decide_first(officer))


def test_new_account_needs_both_halves_and_opens_only_the_password_change(
        as_role, testapp, dbsession):
    admin = as_role("admin")
    page = ask_account(admin, "tanaka", extra={"password": "the admin's own choice!"})
    first = one_time(page)
    assert len(first) == 10 and "まだ使えません" in page.text
    account = dbsession.execute(select(User).where(User.username == "tanaka")).scalar_one()
    assert not account.is_active        # nothing works before the second person approves
    officer = signed_in(testapp, "security_officer", "192.0.2.40")
    second = one_time(decide_first(officer))
    assert len(second) == 10 and second != first
    testapp.reset()
    for alone in ("the admin's own choice!", first, second, second + first):
        login(testapp, "tanaka", alone, status=401)
    first_sign_in = login(testapp, "tanaka", f"{first} {second}")   # a space may separate them
    assert first_sign_in.location.endswith("/password")
    # Nothing else works with the one-time password: every screen leads to the change.
    assert testapp.get("/applications", status=302).location.endswith("/password")
    assert testapp.get("/", status=303).location.endswith("/password")
    _change_own(testapp, first + second, "my own long passphrase 2026")
    testapp.get("/applications", status=200)
    testapp.reset()
    login(testapp, "tanaka", first + second, status=401)
    login(testapp, "tanaka", "my own long passphrase 2026")


def test_one_time_password_expires(as_role, testapp, monkeypatch):
    from intranet.audit import writer

    officer = signed_in(testapp, "security_officer", "192.0.2.40")
    first, second = _account(as_role("admin"), officer, "tanaka")
    later = writer.utcnow() + timedelta(hours=73)
    monkeypatch.setattr(writer, "utcnow", lambda: later)
    testapp.reset()
    assert "有効期限" in login(testapp, "tanaka", first + second, status=401).text


def test_reset_takes_effect_on_approval_and_ends_the_sessions(as_role, testapp, dbsession):
    staff = signed_in(testapp, "staff", "192.0.2.20")
    target = dbsession.execute(select(User).where(User.username == "staff")).scalar_one()
    first = one_time(ask_reset(as_role("admin"), target.id))
    # Asked, not approved: the holder's own password and session go on.
    staff.get("/applications", status=200)
    officer = signed_in(testapp, "security_officer", "192.0.2.40")
    second = one_time(decide_first(officer))
    assert "/login" in staff.get("/applications", status=302).location
    login(staff, "staff", status=401)
    assert login(staff, "staff", first + second).location.endswith("/password")


def test_users_change_their_own_password_and_weak_ones_are_refused(as_role, testapp):
    other = webtest.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.20"})
    login(other, "staff")
    app = as_role("staff")
    for weak, why in (("short", "12文字以上"), ("password1234", "よく使われている"),
                      ("QWERTY123456", "よく使われている"), ("aaaaaaaaaaaaaaaa", "よく使われている"),
                      ("staff-is-my-name", "ユーザー名")):
        refused = _change_own(app, PASSWORD, weak, status=400)
        assert why in refused.text
    assert "現在のパスワード" in _change_own(app, "not my password", "a fine new passphrase",
                                            status=400).text
    _change_own(app, PASSWORD, "a fine new passphrase")
    app.get("/applications", status=200)               # this session goes on
    assert "/login" in other.get("/applications", status=302).location   # the other ended
    testapp.reset()
    login(testapp, "staff", "a fine new passphrase")


def test_granting_supervisor_needs_a_second_person(as_role, testapp, session_factory, dbsession):
    import webtest as wt

    target = dbsession.execute(select(User).where(User.username == "staff")).scalar_one()
    staff = wt.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.30"})
    login(staff, "staff")
    admin = as_role("admin")
    form = admin.get(f"/users/{target.id}").forms["account"]
    form["role"] = "supervisor"
    assert "承認後に有効" in form.submit().follow().text
    dbsession.expire_all()
    assert dbsession.get(User, target.id).role == "staff"
    staff.get("/bulk", status=403)                    # not a supervisor yet
    # The administrator who asked cannot approve their own request.
    refused = decide_first(admin, status=400)
    assert "別の管理者" in refused.text
    dbsession.expire_all()
    assert dbsession.get(User, target.id).role == "staff"
    # A security officer is the second person.
    officer = wt.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.31"})
    login(officer, "security_officer")
    decide_first(officer, status=303)
    dbsession.expire_all()
    assert dbsession.get(User, target.id).role == "supervisor"
    # The role change ended the old session; a new sign-in carries the new role.
    assert "/login" in staff.get("/bulk", status=302).location
    login(staff, "staff")
    staff.get("/bulk", status=200)
    actions = dbsession.execute(select(AuditRecord.action).where(
        AuditRecord.action.startswith("user.request")).order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["user.request", "user.request.refused", "user.request.approve"]


def test_new_supervisor_account_is_unusable_until_approved(as_role, testapp, dbsession):
    ask_account(as_role("admin"), "suzuki", role="supervisor")
    account = dbsession.execute(select(User).where(User.username == "suzuki")).scalar_one()
    assert account.role == "supervisor" and not account.is_active
    decide_first(signed_in(testapp, "security_officer", "192.0.2.40"))
    dbsession.expire_all()
    account = dbsession.get(User, account.id)
    assert account.is_active and account.must_change_password


def _change_own(app, current, new, status=303):
    form = main_form(app.get("/password"))
    form["current"], form["password"], form["confirm"] = current, new, new
    return form.submit(status=status)


def test_disabling_an_account_ends_its_sessions(as_role, testapp, dbsession):
    import webtest

    staff = webtest.TestApp(testapp.app)
    login(staff, "staff")
    staff.get("/applications", status=200)
    admin = as_role("admin")
    target = dbsession.execute(select(User).where(User.username == "staff")).scalar_one()
    form = admin.get(f"/users/{target.id}").forms["account"]
    form["is_active"] = False
    assert form.submit().status_int == 303
    assert "/login" in staff.get("/applications", status=302).location
    login(staff, "staff", status=401)
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "user.update")).scalar_one()
    assert '"is_active":false' in record.details


def test_admin_cannot_lock_themselves_out(as_role, dbsession):
    app = as_role("admin")
    me = dbsession.execute(select(User).where(User.username == "admin")).scalar_one()
    form = app.get(f"/users/{me.id}").forms["account"]
    form["role"] = "staff"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "自分自身" in response.text
