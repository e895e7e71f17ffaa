"""Signing in and out, lockout, sessions, CSRF and headers."""

from datetime import timedelta

from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.auth.models import User
from intranet.db import engine_of
from tests.conftest import PASSWORD, csrf_token, login


def test_login_lands_each_role_on_its_home(testapp):
    homes = {"staff": "/dashboard", "supervisor": "/dashboard", "security_officer": "/audit",
             "admin": "/users"}
    for role, home in homes.items():
        testapp.reset()
        login(testapp, role)
        assert testapp.get("/", status=303).location.endswith(home)


def test_wrong_password_and_unknown_user_get_the_same_answer(testapp):
    wrong = login(testapp, "staff", "not the password", status=401)
    unknown = login(testapp, "nobody-here", PASSWORD, status=401)
    assert "ユーザー名またはパスワードが正しくありません" in wrong.text
    assert "ユーザー名またはパスワードが正しくありません" in unknown.text


def test_lockout_after_repeated_failures(testapp):
    for _ in range(5):
        login(testapp, "staff", "guess", status=401)
    locked = login(testapp, "staff", PASSWORD, status=423)
    assert "ロック" in locked.text


def test_every_login_attempt_is_audited(testapp, dbsession):
    login(testapp, "staff", "guess", status=401)
    login(testapp, "staff")
    actions = dbsession.execute(select(AuditRecord.action).where(
        AuditRecord.actor == "staff").order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["login.failure", "login.success"]


def test_login_form_without_csrf_token_is_refused(testapp):
    response = testapp.post("/login", {"username": "staff", "password": PASSWORD}, status=400)
    assert "有効期限" in response.text


def test_logout_needs_post_and_ends_the_session(as_role):
    app = as_role("staff")
    page = app.get("/applications")
    app.post("/logout", {"csrf_token": csrf_token(page)}, status=303)
    assert "/login" in app.get("/applications", status=302).location


def test_password_change_ends_existing_sessions(as_role, session_factory):
    app = as_role("staff")
    app.get("/applications", status=200)
    with session_factory() as dbsession, dbsession.begin():
        user = dbsession.execute(select(User).where(User.username == "staff")).scalar_one()
        user.security_stamp += 1
    assert "/login" in app.get("/applications", status=302).location


def test_open_redirect_after_login_is_ignored(testapp):
    page = testapp.get("/login?next=https://evil.example/")
    response = testapp.post("/login", {"username": "staff", "password": PASSWORD,
                                       "next": "//evil.example/", "csrf_token": csrf_token(page)})
    assert "evil" not in response.location


def test_cookie_and_security_headers(testapp):
    page = testapp.get("/login")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    response = login(testapp, "staff")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_english_on_request(testapp):
    page = testapp.get("/login")
    page = testapp.post("/language", {"locale": "en", "next": "/login",
                                      "csrf_token": csrf_token(page)}).follow()
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text


def test_absolute_session_timeout(app_settings, accounts, monkeypatch):
    import webtest

    from intranet import main, security

    app = webtest.TestApp(main({}, **{**app_settings, "session.absolute_timeout": "3600"}))
    login(app, "staff")
    app.get("/applications", status=200)
    # An hour and a second later the session is over, however active it has been.
    now = security.utcnow()
    monkeypatch.setattr(security, "utcnow", lambda: now + timedelta(seconds=3601))
    assert "/login" in app.get("/applications", status=302).location
    engine_of(app.app.registry).dispose()
