"""Dashboard: counts per status per programme and the progress chart."""

import re
from datetime import date

from intranet.dashboard.services import MAX_POINTS
from intranet.usage.figures import DAYS_SHOWN
from tests.factories import make_applications, make_programme


def test_counts_and_chart(as_role, session_factory):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 4, received_on=date(2020, 6, 1))
    make_applications(session_factory, programme, 2, start=100, status="reviewing",
                      received_on=date(2020, 6, 3))
    page = as_role("staff").get("/dashboard")
    assert "合計 6 件" in page.text
    assert "<svg" in page.text and "polyline" in page.text
    assert "2020年6月3日" in page.text   # the cumulative table beside the chart
    assert "<script" not in page.text


def test_one_far_future_date_already_stored_does_not_blow_the_dashboard_up(as_role,
                                                                          session_factory):
    # Stored before the plausibility bounds existed (or by hand): the chart stays bounded.
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 3, received_on=date(2020, 6, 1))
    make_applications(session_factory, programme, 1, start=50, received_on=date(2500, 1, 1))
    page = as_role("staff").get("/dashboard")
    points = re.search(r'<polyline[^>]*points="([^"]+)"', page.text).group(1).split()
    assert len(points) <= MAX_POINTS
    # + the counts per status, + the relief table's days (a fixed window: intranet.usage)
    assert page.text.count("<tr>") <= MAX_POINTS + 40 + DAYS_SHOWN + 1
    assert len(page.body) < 200_000
    assert "2500年1月1日" in page.text and "合計 4 件" in page.text   # the last point is exact


def test_every_entry_point_refuses_an_implausible_date(as_role, session_factory):
    from tests.conftest import csrf_token

    programme = make_programme(session_factory)
    [application_id] = make_applications(session_factory, programme, 1, status="payment_scheduled")
    app = as_role("supervisor")
    page = app.get(f"/applications/{application_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    refused = app.post(f"/applications/{application_id}/status",
                       {"csrf_token": csrf_token(page), "version": version, "status": "paid",
                        "paid_on": "2500-01-01"}, status=400)
    assert "ありえない日付です" in refused.text
    page = app.get("/programmes/new")
    refused = app.post("/programmes/new", {"csrf_token": csrf_token(page), "code": "p2",
                                           "name": "事業", "lookup_opens_on": "2500-01-01"},
                       status=400)
    assert "ありえない日付です" in refused.text
