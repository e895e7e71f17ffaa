"""Files as municipalities have them (issue 26 item 3): a title and a date line above the
header, blank lines, a tab-separated file with a title, an .xlsx with a cover sheet first —
each imports, and the dry run says which line and which sheet were read."""

import io
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from intranet.applications.models import Application
from lab.import_files import HEADER, PEOPLE, csv_text
from tests.factories import make_programme
from tests.functional.test_imports import confirm, upload
from tests.visible_text import visible_text

TITLE = "令和2年度 特別定額給付金 申請者一覧（令和2年6月1日現在）"


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


def _receipts(session_factory):
    with session_factory() as s:
        return sorted(s.execute(select(Application.receipt_number_normalised)).scalars())


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_a_title_and_blank_lines_above_the_header_are_skipped_and_said(
        as_role, programme, session_factory, delimiter):
    body = csv_text(PEOPLE, delimiter=delimiter)
    data = f"{TITLE}\r\n\r\n作成日,令和2年6月1日\r\n\r\n{body}".encode("cp932")
    app = as_role("supervisor")
    dry = upload(app, programme, data, status=200)
    text = visible_text(dry.text)
    assert "見出しの行: 5 行目（その前の 1、3 行目は表題などとして読み飛ばしました）" in text
    assert "のように見えます" not in text
    assert "<strong>3</strong> 件を新規登録" in dry.text
    confirm(app, dry)
    assert _receipts(session_factory) == ["12345678", "12345679", "12345680"]


def test_a_title_alone_is_never_read_as_a_column(as_role, programme):
    data = f"{TITLE}\r\n1234-5678,髙橋　一郎\r\n".encode("cp932")
    refused = upload(as_role("supervisor"), programme, data, status=400)
    text = visible_text(refused.text)
    assert "見出しの行が見つかりません" in text and f"1 行目は「{TITLE}」" in text
    assert "のように見えます" not in text


def _book(*sheets):
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    handle = io.BytesIO()
    book.save(handle)
    return handle.getvalue()


def test_an_xlsx_with_a_cover_sheet_reads_the_sheet_with_the_header(
        as_role, programme, session_factory):
    cover = [[TITLE], [], ["作成", "福祉課"], ["件数", 2]]
    rows = [[TITLE], [], HEADER[:7],
            ["00000077", "髙橋　大輔", "タカハシ　ダイスケ", datetime(1980, 1, 2), "中央区", "",
             datetime(2020, 6, 1)],
            ["00000078", "山﨑　花子", "", "", "", "", "令和2年6月2日"]]
    data = _book(("表紙", cover), ("申請者一覧", rows))
    app = as_role("supervisor")
    dry = upload(app, programme, data, "list.xlsx", status=200)
    text = visible_text(dry.text)
    assert "読んだシート: 「申請者一覧」（ファイルのシート: 表紙、申請者一覧）" in text
    assert "見出しの行: 3 行目（その前の 1 行目は表題などとして読み飛ばしました）" in text
    confirm(app, dry)
    assert _receipts(session_factory) == ["00000077", "00000078"]


def test_an_xlsx_with_no_header_on_any_sheet_is_refused_plainly(as_role, programme):
    data = _book(("表紙", [[TITLE]]), ("メモ", [["お知らせ"]]))
    refused = upload(as_role("supervisor"), programme, data, "list.xlsx", status=400)
    assert "見出しの行が見つかりません" in visible_text(refused.text)
