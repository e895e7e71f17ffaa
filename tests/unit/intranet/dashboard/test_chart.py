"""The server-drawn progress chart."""

from datetime import date
from xml.etree import ElementTree

from intranet.dashboard.chart import progress_svg
from intranet.dashboard.services import ProgressDay

LABELS = {"received": "受付", "decided": "支給決定", "paid": "振込済"}


def test_chart_is_valid_svg_with_a_title_and_three_lines():
    days = [ProgressDay(date(2020, 6, d), d * 10, d * 5, d) for d in range(1, 8)]
    svg = progress_svg(days, LABELS, "進捗 <test>")
    root = ElementTree.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "進捗 <test>"
    assert len(root.findall(f"{ns}polyline")) == 3


def test_no_data_no_chart():
    assert progress_svg([], LABELS, "x") == ""
