"""Role boundaries, enforced on the server: every screen, every role."""

import pytest

from tests.conftest import login
from tests.factories import make_applications, make_programme

# (method, path) -> roles allowed; everyone else gets 403 (or the login page if anonymous).
SCREENS = {
    ("GET", "/dashboard"): {"staff", "supervisor"},
    ("GET", "/applications"): {"staff", "supervisor"},
    ("GET", "/applications/{app}"): {"staff", "supervisor"},
    ("POST", "/applications/{app}/status"): {"staff", "supervisor"},
    ("GET", "/bulk"): {"supervisor"},
    ("POST", "/bulk"): {"supervisor"},
    ("POST", "/bulk/selection"): {"supervisor"},
    ("GET", "/catalogue"): {"staff", "supervisor"},
    ("GET", "/catalogue/received"): {"supervisor"},
    ("POST", "/catalogue/received"): {"supervisor"},
    ("GET", "/programmes"): {"staff", "supervisor"},
    ("GET", "/programmes/new"): {"supervisor"},
    ("POST", "/programmes/new"): {"supervisor"},
    ("GET", "/audit"): {"security_officer"},
    ("GET", "/audit.csv"): {"security_officer"},
    ("GET", "/publications"): {"staff", "supervisor"},
    ("POST", "/publications"): {"staff", "supervisor"},
    ("POST", "/publications/1/decision"): {"supervisor"},
    ("GET", "/transfers"): {"security_officer"},
    ("GET", "/transfers.csv"): {"security_officer"},
    ("GET", "/users"): {"admin"},
    ("GET", "/users/new"): {"admin"},
    ("POST", "/users/new"): {"admin"},
    ("POST", "/users/1/reset"): {"admin"},
    ("GET", "/users/grants"): {"admin", "security_officer"},
    ("GET", "/applications.csv"): {"staff", "supervisor"},
    ("GET", "/history.csv"): {"staff", "supervisor"},
    ("GET", "/password"): {"staff", "supervisor", "security_officer", "admin"},
}
ROLES = ("staff", "supervisor", "security_officer", "admin")


@pytest.fixture
def application_id(session_factory):
    programme = make_programme(session_factory)
    return make_applications(session_factory, programme, 1)[0]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_screens(testapp, role, application_id):
    login(testapp, role)
    token = _token(testapp)
    for (method, path), allowed in SCREENS.items():
        url = path.format(app=application_id)
        if method == "GET":
            response = testapp.get(url, expect_errors=True)
        else:
            # A valid token, an empty form: the permission check comes before validation.
            response = testapp.post(url, {"csrf_token": token}, expect_errors=True)
        if role in allowed:
            assert response.status_int < 500 and response.status_int != 403, \
                f"{role}: {method} {url} -> {response.status}"
        else:
            assert response.status_int == 403, f"{role} reached {method} {url}"


def test_anonymous_is_sent_to_login(testapp, application_id):
    for (method, path) in SCREENS:
        if method == "GET":
            response = testapp.get(path.format(app=application_id), status=302)
            assert "/login?next=" in response.location


def test_security_officer_changes_nothing(testapp, application_id, dbsession):
    from intranet.applications.models import Application

    login(testapp, "security_officer")
    testapp.post(f"/applications/{application_id}/status",
                 {"csrf_token": _token(testapp), "status": "reviewing", "version": "1"},
                 status=403)
    assert dbsession.get(Application, application_id).status_code == "received"


def _token(testapp):
    from tests.conftest import csrf_token

    return csrf_token(testapp.get("/login"))
