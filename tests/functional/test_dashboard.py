"""Dashboard: counts per status per programme and the progress chart."""

from datetime import date

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
