"""The 廃棄記録 — the page printed for the 文書管理 ledger — in words: erased items and
statuses by their Japanese names, every date as 2026年12月6日, no column name or code.

The page and its print view are read for ASCII identifiers: a database column
(``receipt_number``), a status code (``approved``, ``reviewing``), a role (``supervisor``).
What staff typed themselves (the programme's code, people's names) is taken out first."""

import re

import transaction
from sqlalchemy import select

from intranet.auth.models import User
from intranet.db import get_tm_session
from intranet.disposal.erase import ERASED_FIELD_LABELS, ERASED_FIELDS
from intranet.disposal.models import Disposal
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme
from tests.functional.test_disposal import (  # noqa: F401  (second_supervisor: the fixture)
    OVERRIDE,
    archived,
    as_user,
    decide,
    latest_disposal,
    request_disposal,
    second_supervisor,
)
from tests.visible_text import visible_text

CODE = "tokubetsu-2020"
# File formats and paper sizes are words here, not identifiers.
ALLOWED = {"JSON", "A4"}
ASCII_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def main_part(html: str) -> str:
    """What is between <main ...> and </main>: the menus and the footer's version are not
    part of the record."""
    return html.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]


def main_text(html: str) -> str:
    return visible_text(main_part(html))


def identifiers(text: str) -> list[str]:
    return [word for word in ASCII_WORD.findall(text.replace(CODE, "")) if word not in ALLOWED]


def japanese_names(session_factory):
    """People as a city names its staff: display names in Japanese."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        for n, user in enumerate(dbsession.execute(select(User)).scalars()):
            user.display_name = f"職員 {'一二三四五六七八九十'[n % 10]}郎"


def disposed(testapp, session_factory, dbsession, second):
    programme = make_programme(session_factory, code=CODE)
    make_applications(session_factory, programme, 3)
    make_applications(session_factory, programme, 2, status="reviewing", start=10)
    japanese_names(session_factory)
    app = as_user(testapp, "supervisor")
    archived(app, programme)
    assert request_disposal(app, programme, override=True, reason=OVERRIDE).status_int == 303
    disposal = latest_disposal(dbsession)
    assert decide(as_user(testapp, second), disposal.id).status_int == 303
    return disposal.id


def test_the_record_and_its_print_view_hold_no_code_or_column_name(
        testapp, session_factory, dbsession, second_supervisor):  # noqa: F811
    number = disposed(testapp, session_factory, dbsession, second_supervisor)
    app = as_user(testapp, "supervisor")
    page = main_text(app.get(f"/disposals/{number}").text)
    printed = app.get(f"/disposals/{number}/print")
    sheet = main_text(printed.text)
    for text in (page, sheet):
        assert identifiers(text) == [], identifiers(text)
        assert not ISO_DATE.search(text), ISO_DATE.search(text)
        for name in ERASED_FIELD_LABELS.values():
            assert name in text, name
        assert "受付済" in text and "審査中" in text          # the statuses kept, by name
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)
    # What the ledger asks for, on the printed sheet.
    for field in ("記録番号", f"第{number}号", "事業", "消去した内容", "消去した件数", "申請 5 件",
                  "残した件数", "受付済 3 件", "審査中 2 件", "保存の根拠", "保存期間 5年",
                  "保存期間の満了前の廃棄", OVERRIDE, "申請者", "承認した人", "監督者", "廃棄日",
                  "確認欄"):
        assert field in sheet, field
    # One A4 sheet: the stylesheet's print layout, and nothing to press on the paper.
    css = app.get("/static/intranet.css").text
    assert "@media print" in css and "size: A4" in css
    assert "<form" not in main_part(printed.text)


def test_every_erased_field_has_its_name_and_the_file_keeps_the_codes(
        testapp, session_factory, dbsession, second_supervisor):  # noqa: F811
    assert set(ERASED_FIELD_LABELS) == set(ERASED_FIELDS)
    number = disposed(testapp, session_factory, dbsession, second_supervisor)
    app = as_user(testapp, "supervisor")
    # The file ``disposal reapply`` reads keeps the codes; only the pages speak in words.
    as_json = app.get(f"/disposals/{number}.json").json
    assert as_json["erased_fields"] == list(ERASED_FIELDS)
    assert as_json["statistics"]["by_status"] == {"received": 3, "reviewing": 2}
    assert dbsession.get(Disposal, number).state == "approved"


def test_the_english_record_names_items_in_english(
        testapp, session_factory, dbsession, second_supervisor):  # noqa: F811
    number = disposed(testapp, session_factory, dbsession, second_supervisor)
    app = as_user(testapp, "supervisor")
    app.post("/language", {"locale": "en", "csrf_token": csrf_token(app.get("/disposals"))})
    sheet = main_text(app.get(f"/disposals/{number}/print").text)
    for words in ("Receipt number", "Date of birth", "Record number", "Retention basis"):
        assert words in sheet, words
    assert "receipt_number" not in sheet and "audit_personal" not in sheet
