"""One reader of a date typed into a form (``intranet.plausible_dates.from_form``): every
screen that takes a date refuses the same inputs with the same specific message — a date
box sends YYYY-MM-DD, so neither 20200601, an ISO week (which ``date.fromisoformat`` would
read), full-width digits, a day that does not exist nor a time is read as a date, and a
filter given one is a 400 naming the format, not a filter silently left out.

Two boxes are typed by hand, not picked, and read dates as staff write them, 和暦 too
(``intranet.dates``): the search's birth date (as a caller says it) and the audit search's
dates (令和8年12月6日). Their own refusals are tested in test_search.py and test_story.py."""

import re

import pytest

from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme

FORMAT = "日付の形式が正しくありません（例: 2020-06-01）"
NOT_DATES = ["20200601", "2020-W23-1", "２０２０-０６-０１", "2020-02-30", "2020-6-1",
             "2020-06-01T00:00"]


@pytest.mark.parametrize("typed", NOT_DATES)
@pytest.mark.parametrize(("role", "path", "field"), [
    ("staff", "/applications", "from"),            # the search
    ("staff", "/applications", "to"),
    ("security_officer", "/transfers", "to"),      # the transfer log's filter
])
def test_a_filter_refuses_what_no_date_box_sends(as_role, role, path, field, typed):
    page = as_role(role).get(path, {field: typed}, status=400)
    assert FORMAT in page.text


@pytest.mark.parametrize("typed", NOT_DATES)
def test_the_status_form_names_the_date_field(as_role, session_factory, typed):
    [one] = make_applications(session_factory, make_programme(session_factory), 1,
                              status="payment_scheduled")
    app = as_role("supervisor")
    page = app.get(f"/applications/{one}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    refused = app.post(f"/applications/{one}/status",
                       {"csrf_token": csrf_token(page), "version": version, "status": "paid",
                        "paid_on": typed}, status=400)
    assert FORMAT in refused.text


@pytest.mark.parametrize("typed", NOT_DATES)
def test_the_programme_form_names_the_date_field(as_role, typed):
    app = as_role("supervisor")
    page = app.get("/programmes/new")
    refused = app.post("/programmes/new", {"csrf_token": csrf_token(page), "code": "p2",
                                           "name": "事業", "lookup_opens_on": typed}, status=400)
    assert FORMAT in refused.text and 'id="lookup_opens_on-error"' in refused.text


def test_a_good_date_with_spaces_around_it_is_read_everywhere(as_role):
    assert as_role("security_officer").get("/audit", {"from": " 2020-06-01 "}).status_int == 200
    assert as_role("staff").get("/applications", {"from": "2020-06-01"}).status_int == 200
