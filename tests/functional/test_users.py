"""Account administration: administrators only, every change audited."""

import re
from datetime import timedelta

import webtest
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.auth.models import User
from tests.conftest import PASSWORD, csrf_token, login, main_form


def _one_time(page):
    return re.search(r'id="one-time-password">([^<]+)<', page.text).group(1)


def _new_account(admin, username, role="staff", password=None):
    form = main_form(admin.get("/users/new"))
    form["username"] = username
    form["display_name"] = "田中 一郎"
    form["role"] = role
    fields = {k: v for k, v in form.submit_fields()}
    if password is not None:  # the form has no such field: a hand-made request
        fields["password"] = password
    return admin.post("/users/new", fields, status=200)


def test_new_account_gets_a_one_time_password_that_opens_only_the_password_change(
        as_role, testapp):
    page = _new_account(as_role("admin"), "tanaka", password="the admin's own choice!")
    one_time = _one_time(page)
    assert one_time != "the admin's own choice!" and len(one_time) >= 16
    testapp.reset()
    login(testapp, "tanaka", "the admin's own choice!", status=401)
    first = login(testapp, "tanaka", one_time)
    assert first.location.endswith("/password")
    # Nothing else works with the one-time password: every screen leads to the change.
    assert testapp.get("/applications", status=302).location.endswith("/password")
    assert testapp.get("/", status=303).location.endswith("/password")
    _change_own(testapp, one_time, "my own long passphrase 2026")
    testapp.get("/applications", status=200)
    testapp.reset()
    login(testapp, "tanaka", one_time, status=401)
    login(testapp, "tanaka", "my own long passphrase 2026")


def test_one_time_password_expires(as_role, testapp, monkeypatch):
    from intranet.audit import writer

    one_time = _one_time(_new_account(as_role("admin"), "tanaka"))
    later = writer.utcnow() + timedelta(hours=73)
    monkeypatch.setattr(writer, "utcnow", lambda: later)
    testapp.reset()
    assert "有効期限" in login(testapp, "tanaka", one_time, status=401).text


def test_reset_gives_a_one_time_password_and_ends_the_sessions(as_role, testapp, dbsession):
    staff = webtest.TestApp(testapp.app)
    login(staff, "staff")
    target = dbsession.execute(select(User).where(User.username == "staff")).scalar_one()
    admin = as_role("admin")
    page = admin.post(f"/users/{target.id}/reset", {"csrf_token": csrf_token(
        admin.get(f"/users/{target.id}"))}, status=200)
    one_time = _one_time(page)
    assert "/login" in staff.get("/applications", status=302).location
    login(staff, "staff", status=401)
    assert login(staff, "staff", one_time).location.endswith("/password")


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
    grants = admin.get("/users/grants")
    refused = main_form(grants).submit("decision", value="approve", status=400)
    assert "別の管理者" in refused.text
    dbsession.expire_all()
    assert dbsession.get(User, target.id).role == "staff"
    # A security officer is the second person.
    officer = wt.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.31"})
    login(officer, "security_officer")
    main_form(officer.get("/users/grants")).submit("decision", value="approve", status=303)
    dbsession.expire_all()
    assert dbsession.get(User, target.id).role == "supervisor"
    # The role change ended the old session; a new sign-in carries the new role.
    assert "/login" in staff.get("/bulk", status=302).location
    login(staff, "staff")
    staff.get("/bulk", status=200)
    actions = dbsession.execute(select(AuditRecord.action).where(
        AuditRecord.action.startswith("user.grant")).order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["user.grant.request", "user.grant.approve"]


def test_new_supervisor_account_starts_as_staff_until_approved(as_role, dbsession):
    page = _new_account(as_role("admin"), "suzuki", role="supervisor")
    assert "承認するまで有効になりません" in page.text
    account = dbsession.execute(select(User).where(User.username == "suzuki")).scalar_one()
    assert account.role == "staff" and account.must_change_password


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
