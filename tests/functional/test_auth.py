"""Signing in and out, throttling, server-side sessions, CSRF and headers."""

import re
from datetime import timedelta

import webtest
from sqlalchemy import select, update

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from intranet.auth.models import LoginThrottle, User, UserSession
from tests.conftest import PASSWORD, csrf_token, login, main_form
from tests.factories import make_applications, make_programme


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


def test_failures_slow_down_one_name_from_one_address_and_lock_out_nobody(testapp, monkeypatch):
    from intranet.audit import writer

    now = writer.utcnow()
    monkeypatch.setattr(writer, "utcnow", lambda: now)
    # Five anonymous guesses used to lock the account for everyone for 15 minutes.
    for _ in range(5):
        login(testapp, "staff", "guess", status=401)
    held = login(testapp, "staff", PASSWORD, status=429)
    assert "秒間受け付けません" in held.text and int(held.headers["Retry-After"]) >= 1
    # The colleague at another terminal signs in as usual.
    colleague = webtest.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.99"})
    login(colleague, "staff")


def test_throttle_lifts_after_the_wait_and_grows_with_each_failure(testapp, monkeypatch):
    from intranet.audit import writer

    start = writer.utcnow()
    clock = {"now": start}
    monkeypatch.setattr(writer, "utcnow", lambda: clock["now"])
    for _ in range(5):
        login(testapp, "staff", "guess", status=401)
    assert login(testapp, "staff", PASSWORD, status=429).headers["Retry-After"] == "1"
    clock["now"] = start + timedelta(seconds=2)
    login(testapp, "staff", "guess", status=401)          # sixth failure: two seconds
    assert login(testapp, "staff", PASSWORD, status=429).headers["Retry-After"] == "2"
    clock["now"] = start + timedelta(seconds=5)
    login(testapp, "staff")


def test_unknown_disabled_and_throttled_accounts_reveal_nothing(testapp, session_factory,
                                                               monkeypatch):
    from intranet.audit import writer

    now = writer.utcnow()
    monkeypatch.setattr(writer, "utcnow", lambda: now)  # the waits must not run out here
    with session_factory() as dbsession, dbsession.begin():
        dbsession.execute(update(User).where(User.username == "admin").values(is_active=False))
    disabled = login(testapp, "admin", PASSWORD, status=401)
    unknown = login(testapp, "no-such-person", PASSWORD, status=401)
    assert _error(disabled) == _error(unknown)
    for name in ("staff", "ghost"):
        for _ in range(5):
            login(testapp, name, "guess", status=401)
    assert _error(login(testapp, "staff", "guess", status=429)) == \
        _error(login(testapp, "ghost", "guess", status=429))


def test_a_password_typed_as_the_name_never_reaches_the_audit(testapp, dbsession):
    login(testapp, PASSWORD, PASSWORD, status=401)
    login(testapp, "staff", "wrong password here", status=401)
    records = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "login.failure").order_by(AuditRecord.seq)).scalars().all()
    assert [r.actor for r in records] == ["(unknown)", "staff"]
    assert all(PASSWORD not in (r.actor + r.target + r.details) for r in records)
    assert dbsession.execute(select(LoginThrottle.name_hash)).scalars().all() and \
        PASSWORD not in str(dbsession.execute(select(LoginThrottle.name_hash)).scalars().all())


def _error(page):
    return re.search(r'role="alert"><p>(.*?)</p>', page.text).group(1)


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


def test_cookie_replayed_after_logout_gets_the_login_page_and_changes_nothing(
        as_role, session_factory, dbsession):
    programme = make_programme(session_factory)
    application_id = make_applications(session_factory, programme, 1)[0]
    app = as_role("staff")
    page = app.get(f"/applications/{application_id}")
    stolen = dict(app.cookies)
    token = csrf_token(page)
    app.post("/logout", {"csrf_token": token}, status=303)
    # The attacker puts the copied cookie back and tries to read, then to write.
    for name, value in stolen.items():
        app.set_cookie(name, value)
    assert "/login" in app.get(f"/applications/{application_id}", status=302).location
    for name, value in stolen.items():
        app.set_cookie(name, value)
    refused = app.post(f"/applications/{application_id}/status",
                       {"csrf_token": token, "status": "reviewing", "version": "1"},
                       expect_errors=True)
    assert refused.status_int in (302, 400) and "/login" in refused.headers.get("Location", "/login")
    assert dbsession.get(Application, application_id).status_code == "received"
    actions = dbsession.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars().all()
    assert actions[-1] == "logout"
    ended = dbsession.execute(select(UserSession)).scalar_one()
    assert ended.ended_at is not None and ended.end_reason == "logout"


def test_password_change_ends_existing_sessions(as_role, session_factory):
    app = as_role("staff")
    app.get("/applications", status=200)
    with session_factory() as dbsession, dbsession.begin():
        user = dbsession.execute(select(User).where(User.username == "staff")).scalar_one()
        user.security_stamp += 1
    assert "/login" in app.get("/applications", status=302).location


def test_idle_timeout_says_so_and_sign_in_returns_to_the_page(testapp, monkeypatch):
    from intranet import security

    login(testapp, "staff")
    testapp.get("/applications", {"name": "山田"}, status=200)
    now = security.utcnow()
    monkeypatch.setattr(security, "utcnow", lambda: now + timedelta(seconds=1801))
    gone = testapp.get("/applications", {"name": "山田"}, status=302)
    assert "ended=idle" in gone.location and "next=" in gone.location
    page = testapp.get(gone.location)
    assert "一定時間操作がなかったため" in page.text
    monkeypatch.undo()
    form = main_form(page)
    form["username"], form["password"] = "staff", PASSWORD
    back = form.submit(status=303)
    assert back.location.endswith("/applications?name=%E5%B1%B1%E7%94%B0")


def test_an_idle_session_stays_ended_even_if_used_again_in_time(testapp, monkeypatch):
    from intranet import security

    login(testapp, "staff")
    stolen = dict(testapp.cookies)
    now = security.utcnow()
    monkeypatch.setattr(security, "utcnow", lambda: now + timedelta(seconds=1801))
    testapp.get("/applications", status=302)
    monkeypatch.undo()
    for name, value in stolen.items():
        testapp.set_cookie(name, value)
    assert "/login" in testapp.get("/applications", status=302).location


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


def test_absolute_session_timeout(app_with, accounts, monkeypatch):
    from intranet import security

    app = app_with(**{"session.absolute_timeout": "3600"})
    login(app, "staff")
    app.get("/applications", status=200)
    # An hour and a second later the session is over, however active it has been.
    now = security.utcnow()
    monkeypatch.setattr(security, "utcnow", lambda: now + timedelta(seconds=3601))
    assert "/login" in app.get("/applications", status=302).location


def test_a_forged_host_header_is_refused(testapp, app_with):
    response = testapp.get("/login", headers={"Host": "evil.example"}, status=400)
    assert "shinsei.allowed_hosts" in response.text
    testapp.get("/login", headers={"Host": "localhost:6543"}, status=200)
    app = app_with(**{"shinsei.allowed_hosts": "shinsei.city.lg.jp"})
    page = app.get("/login", headers={"Host": "shinsei.city.lg.jp"}, status=200)
    assert "http://shinsei.city.lg.jp/login" in page.text
    app.get("/login", status=400)                          # localhost is no longer one


def test_pages_let_the_browser_send_its_own_origin_on_form_posts(testapp):
    # With "no-referrer" a browser posts forms with "Origin: null", and the CSRF origin check,
    # which applies under HTTPS (behind nginx), then refuses every login: found by staff
    # signing in through the shipped nginx site over TLS.
    page = testapp.get("/login")
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_one_password_against_thirty_names_from_one_address_is_slowed(testapp, monkeypatch):
    """Issue 25: 30 names × one password from one address were never slowed, as each
    (name, address) pair failed only once. The address now has its own count."""
    from intranet.audit import writer

    now = writer.utcnow()
    monkeypatch.setattr(writer, "utcnow", lambda: now)
    answers = [login(testapp, f"guess-{n}", "Password1234!", status="*").status_int
               for n in range(30)]
    assert 429 in answers and answers.index(429) <= 20, answers
    held = login(testapp, "staff", PASSWORD, status=429)   # every name, from there
    assert "秒間受け付けません" in held.text
    # A colleague at another terminal is not held back.
    colleague = webtest.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.99"})
    login(colleague, "staff")
