"""Account administration: administrators only, every change audited."""

from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.auth.models import User
from tests.conftest import login, main_form


def test_admin_adds_an_account_that_can_sign_in(as_role, testapp):
    form = main_form(as_role("admin").get("/users/new"))
    form["username"] = "tanaka"
    form["display_name"] = "田中 一郎"
    form["role"] = "staff"
    form["password"] = "a long enough password"
    assert form.submit().status_int == 303
    testapp.reset()
    login(testapp, "tanaka", "a long enough password")


def test_weak_password_and_taken_username_are_refused(as_role, dbsession):
    app = as_role("admin")
    form = main_form(app.get("/users/new"))
    form["username"] = "staff"
    form["password"] = "a long enough password"
    assert "すでに使われています" in form.submit(expect_errors=True).text
    form = main_form(app.get("/users/new"))
    form["username"] = "newcomer"
    form["password"] = "short"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "12文字以上" in response.text
    assert dbsession.execute(select(User).where(User.username == "newcomer")).first() is None


def test_disabling_an_account_ends_its_sessions(as_role, testapp, dbsession):
    import webtest

    staff = webtest.TestApp(testapp.app)
    login(staff, "staff")
    staff.get("/applications", status=200)
    admin = as_role("admin")
    target = dbsession.execute(select(User).where(User.username == "staff")).scalar_one()
    form = main_form(admin.get(f"/users/{target.id}"))
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
    form = main_form(app.get(f"/users/{me.id}"))
    form["role"] = "staff"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "自分自身" in response.text
