"""Every unexpected value in a query string, a form field or a URL id is a 400 page with a
Japanese message and the usual security headers — never a 500 and never a traceback.

Each case is something no screen of ours sends: letters for a number, a superscript digit
(``"²".isdigit()`` is true, ``int("²")`` fails), an id past 2^63 (PostgreSQL refuses it
with an error rather than "no such row"), a value outside a fixed set, a line break in
``next`` (it would split the Location header)."""

import re

import pytest
import transaction

from intranet.db import get_tm_session
from intranet.publications.services import request_publication
from intranet.users.services import find_user
from tests.conftest import PASSWORD, TEST_ACTOR, csrf_token
from tests.factories import make_applications, make_programme

JAPANESE_MESSAGE = re.compile(
    r'(role="alert"|class="field-error")[^>]*>(\s*<[^>]+>)*\s*[\u3040-\u30ff\u4e00-\u9fff]')
HUGE = str(2**63)           # one past the largest BIGINT
HUGER = "9" * 30
HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
           "Referrer-Policy")

# (role, path, query)
QUERIES = [
    ("staff", "/applications", {"programme": "abc"}),
    ("staff", "/applications", {"programme": "²"}),
    ("staff", "/applications", {"programme": HUGE}),
    ("staff", "/applications", {"sort": "name; drop table"}),
    ("staff", "/applications", {"dir": "sideways"}),
    ("staff", "/applications", {"from": "2020-13-45"}),
    ("staff", "/applications.csv", {"programme": "abc"}),
    ("staff", "/history.csv", {"programme": HUGER}),
    ("staff", "/applications.csv", {"sort": "x"}),
    ("staff", f"/applications/{HUGE}", {}),
    ("staff", f"/applications/{HUGER}", {}),
    ("security_officer", "/audit", {"before": "²"}),
    ("security_officer", "/audit", {"before": HUGER}),
    ("supervisor", f"/programmes/{HUGE}", {}),
    ("admin", f"/users/{HUGER}", {}),
    (None, "/login", {"next": "/applications\r\nSet-Cookie: x=1"}),
    (None, "/login", {"next": "/\n"}),
]

# (role, page that carries a CSRF token, path, form)
FORMS = [
    ("staff", "/applications", "/applications/{id}/status", {"status": "reviewing", "version": "²"}),
    ("staff", "/applications", "/applications/{id}/status",
     {"status": "payment_scheduled", "version": "1", "scheduled_payment_on": "2020-02-30"}),
    ("staff", "/applications", f"/applications/{HUGE}/status", {"status": "reviewing", "version": "1"}),
    ("supervisor", "/bulk", "/bulk/selection", {"ids": "²"}),
    ("supervisor", "/bulk", "/bulk/selection", {"ids": HUGER}),
    ("supervisor", "/bulk", "/bulk", {"programme": "abc", "numbers": "1", "status": "reviewing"}),
    ("supervisor", "/bulk", "/bulk", {"programme": HUGE, "numbers": "1", "status": "reviewing"}),
    ("supervisor", "/bulk", "/bulk", {"programme": "{programme}", "numbers": "1",
                                      "status": "paid", "paid_on": "yesterday"}),
    ("supervisor", "/catalogue/received", "/catalogue/received", {"sort_order": "²"}),
    ("supervisor", "/catalogue/received", "/catalogue/received", {"sort_order": HUGER}),
    ("staff", "/imports", "/imports", {"programme": "abc"}),
    ("staff", "/imports", "/imports", {"programme": HUGE}),
    ("supervisor", "/publications", f"/publications/{HUGE}/decision", {"decision": "approve"}),
    ("supervisor", "/publications", "/publications/{publication}/decision", {"decision": "maybe"}),
    ("supervisor", "/programmes", f"/programmes/{HUGER}", {"name": "x"}),
    ("admin", "/users", f"/users/{HUGE}", {"display_name": "x", "role": "staff"}),
    (None, "/login", "/login", {"username": "staff", "password": "wrong",
                                "next": "/x\r\nLocation: http://evil.example/"}),
    (None, "/login", "/language", {"locale": "en", "next": "/\r\nSet-Cookie: a=b"}),
]


@pytest.fixture
def one(session_factory):
    programme = make_programme(session_factory)
    (app_id,) = make_applications(session_factory, programme, 1)
    return programme, app_id


@pytest.fixture
def publication(session_factory, accounts):
    """A publication waiting for a supervisor's decision."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        staff = find_user(dbsession, "staff")
        return request_publication(dbsession, TEST_ACTOR, staff, "test", True).id


def assert_refused_plainly(response):
    assert response.status_int == 400, response.status
    # A message in Japanese, shown where the page shows its errors.
    assert JAPANESE_MESSAGE.search(response.text), response.text
    assert "Traceback" not in response.text and "Error" not in response.text
    for name in HEADERS:
        assert name in response.headers, name
    assert "\n" not in response.headers.get("Location", "")


def client(testapp, as_role, role):
    return as_role(role) if role else testapp


@pytest.mark.parametrize(("role", "path", "query"), QUERIES)
def test_query_strings(testapp, as_role, one, role, path, query):
    assert_refused_plainly(client(testapp, as_role, role).get(path, query, status="*"))


@pytest.mark.parametrize(("role", "page", "path", "form"), FORMS)
def test_forms_and_ids(testapp, as_role, one, publication, role, page, path, form):
    programme, app_id = one
    app = client(testapp, as_role, role)
    token = csrf_token(app.get(page.format(id=app_id)))
    values = {k: v.format(programme=programme) for k, v in form.items()}
    response = app.post(path.format(id=app_id, publication=publication),
                        {**values, "csrf_token": token}, status="*")
    assert_refused_plainly(response)


def test_the_bad_next_signs_nobody_in(testapp, one):
    token = csrf_token(testapp.get("/login"))
    testapp.post("/login", {"username": "staff", "password": PASSWORD, "csrf_token": token,
                            "next": "/\r\nX: y"}, status=400)
    assert testapp.get("/applications", status="*").status_int in (302, 303)
