"""The account screens as an administrator and a second person use them: asking for an
account or a reset (the first half of its one-time password), approving it (the second)."""

import re

import webtest

from tests.conftest import csrf_token, login, main_form


def one_time(page) -> str:
    return re.search(r'id="one-time-password">([^<]+)<', page.text).group(1)


def ask_account(admin, username, role="staff", extra=None, status=200):
    """Ask for a new account; the page that shows the first half (or the refusal)."""
    form = main_form(admin.get("/users/new"))
    form["username"] = username
    form["display_name"] = "田中 一郎"
    form["role"] = role
    fields = dict(form.submit_fields())
    fields.update(extra or {})   # the form has no such field: a hand-made request
    return admin.post("/users/new", fields, status=status)


def ask_reset(admin, user_id, status=200):
    page = admin.get(f"/users/{user_id}")
    return admin.post(f"/users/{user_id}/reset", {"csrf_token": csrf_token(page)},
                      status=status)


def ask_role(admin, user_id, role, status=303):
    form = admin.get(f"/users/{user_id}").forms["account"]
    form["role"] = role
    return form.submit(status=status)


def decide_first(app, decision="approve", status=200):
    """Approve (or reject) the first request waiting on 「アカウントの承認」."""
    return main_form(app.get("/users/grants")).submit("decision", value=decision,
                                                       status=status)


def signed_in(testapp, username, address):
    """A client of its own (its own address: the login throttle is per address)."""
    app = webtest.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": address})
    login(app, username)
    return app
