"""The relief figure: per day, the public hosts' lookups added up, the records the call centre
opened, and the share answered online — on the dashboard (chart with title and desc, a table)
and as a CSV Excel opens (UTF-8 with BOM, Japanese headers)."""

import codecs
import csv
import io
from datetime import timedelta

import transaction

from intranet.db import get_tm_session
from intranet.usage.record import replace
from tests.factories import make_applications, make_programme
from transfer.usage_counts import DayCount, today_in_japan


def stored_counts(session_factory, programme_id):
    """Two public hosts' fetched counts, as the recorder stores them, for today (the test's
    start: conftest keeps every test clear of midnight) and yesterday."""
    today = today_in_japan()
    yesterday = today - timedelta(days=1)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        codes = {"tokubetsu-2020": programme_id}
        replace(dbsession, "sftp://shinsei-upload@192.0.2.10:22/inbox",
                [DayCount(today, "tokubetsu-2020", 30, 25, 5, 2),
                 DayCount(yesterday, "tokubetsu-2020", 100, 90, 10, 0)], codes)
        replace(dbsession, "sftp://shinsei-upload@192.0.2.11:22/inbox",
                [DayCount(today, "tokubetsu-2020", 6, 6, 0, 1)], codes)


def test_the_dashboard_adds_the_hosts_up_beside_the_call_centres_opened_records(
        as_role, session_factory):
    programme = make_programme(session_factory)
    stored_counts(session_factory, programme)
    desk = as_role("inquiry")
    for application_id in make_applications(session_factory, programme, 4):
        desk.get(f"/applications/{application_id}")      # four records opened today
    page = as_role("staff").get("/dashboard")
    section = page.html.find(id="relief").parent
    svg = section.find("svg")
    assert svg["role"] == "img" and svg.find("title") and svg.find("desc")
    assert "オンライン照会 136件" in svg.find("desc").text
    assert "問い合わせ対応で申請を開いた件数 4件" in svg.find("desc").text
    rows = {tr.th.text: [td.text for td in tr.find_all("td")]
            for tr in section.find(id="relief-table").tbody.find_all("tr")}
    assert len(rows) == 31
    today = today_in_japan()
    # 30 + 6 answered online, 3 refused by the limit, 4 opened: 36 ÷ 40 = 90.0 %.
    assert rows[in_japanese(today)] == ["36", "3", "4", "90.0%"]
    assert rows[in_japanese(today - timedelta(days=1))] == ["100", "0", "0", "100.0%"]
    assert rows[in_japanese(today - timedelta(days=5))] == ["0", "0", "0", "—"]


def in_japanese(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def test_the_csv_is_the_same_figure_for_excel(as_role, session_factory):
    programme = make_programme(session_factory)
    stored_counts(session_factory, programme)
    application_id = make_applications(session_factory, programme, 1)[0]
    as_role("inquiry").get(f"/applications/{application_id}")
    response = as_role("supervisor").get("/dashboard/usage.csv")
    today = today_in_japan()
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.body.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert table[0] == ["日付", "オンライン照会件数（全公開ホスト）", "回数制限で受け付けなかった照会",
                        "問い合わせ対応で申請を開いた件数", "オンラインで済んだ割合（%）"]
    assert len(table) == 1 + 31
    assert table[-1] == [today.isoformat(), "36", "3", "1", "97.3"]
    assert table[-2] == [(today - timedelta(days=1)).isoformat(), "100", "0", "0", "100.0"]
    assert table[1][1:] == ["0", "0", "0", ""]


def test_with_nothing_fetched_yet_the_figure_says_zero_not_an_error(as_role):
    page = as_role("staff").get("/dashboard")
    assert "オンライン照会 0件" in page.text
    assert as_role("staff").get("/dashboard/usage.csv").status_int == 200


def test_the_figure_in_english(as_role, session_factory):
    from tests.conftest import csrf_token

    stored_counts(session_factory, make_programme(session_factory))
    app = as_role("staff")
    page = app.get("/dashboard")
    app.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    page = app.get("/dashboard")
    section = page.html.find(id="relief").parent
    assert section.h2.text == "Online lookups and the inquiry desk"
    assert "136 online lookups" in section.find("desc").text
    header = app.get("/dashboard/usage.csv").body.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("日付,Online lookups (all public hosts)") or \
        header.startswith("Date,Online lookups (all public hosts)")
