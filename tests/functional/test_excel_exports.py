"""Exports staff open in Excel: labels not codes, names with the programme and the date,
Shift_JIS that says what it cannot hold, and a round trip that changes nothing."""

import io
import unicodedata
from datetime import datetime
from urllib.parse import unquote

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.web import JST
from lab.import_files import encoded
from tests.factories import make_programme
from tests.functional.test_imports import confirm, upload


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


@pytest.fixture
def imported(as_role, programme, session_factory):
    """The three real-shaped people, then edits only the screens make: a name outside
    Shift_JIS, a phone and notes that begin like formulas."""
    app = as_role("supervisor")
    confirm(app, upload(app, programme, encoded()))
    with session_factory() as s, s.begin():
        first = s.execute(select(Application).where(
            Application.receipt_number_normalised == "12345680")).scalar_one()
        first.name, first.phone, first.notes = "𠮷田　次郎", "+81-42-000-0003", "-至急 =確認"
    return app


def today():
    return datetime.now(JST).strftime("%Y%m%d")


def test_csv_export_uses_labels_and_names_the_file(imported, programme):
    response = imported.get("/applications.csv", {"programme": str(programme)})
    text = response.body.decode("utf-8-sig")
    assert ",郵送," in text and ",オンライン," in text and ",postal," not in text
    assert "tokubetsu-2020 の給付金" in text and ",受付済," in text
    assert "𠮷田　次郎" in text                             # UTF-8 is exact
    disposition = unquote(response.headers["Content-Disposition"])
    assert f"filename*=UTF-8''申請一覧_tokubetsu-2020 の給付金_{today()}.csv" in disposition
    history = imported.get("/history.csv").body.decode("utf-8-sig")
    assert ",受付済," in history and ",取込," in history and "received" not in history


def test_shift_jis_export_says_which_rows_it_would_change_then_marks_them(imported):
    warning = imported.get("/applications.csv", {"encoding": "cp932"}, status=409)
    assert "1 件の行に Shift_JIS（CP932）で表せない文字があります" in warning.text
    assert "<td>12345680</td><td>𠮷</td>" in warning.text
    body = imported.get("/applications.csv", {"encoding": "cp932", "replace": "1"}).body
    text = body.decode("cp932")
    assert "〓田　次郎" in text and "?田" not in text and "髙橋　一郎" in text


def test_xlsx_export_is_excel_ready(imported, programme):
    response = imported.get("/applications.xlsx")
    assert response.content_type.endswith("spreadsheetml.sheet")
    assert f"_{today()}.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.body)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["受付番号", "事業", "氏名", "フリガナ"] and sheet.freeze_panes == "A2"
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert rows["12345680"][0].data_type == "s" and rows["12345680"][2].value == "𠮷田　次郎"
    assert rows["12345680"][8].value.date().isoformat() == "2020-06-03"    # a date cell
    assert rows["1234-5678"][7].value == "郵送"
    history = load_workbook(io.BytesIO(imported.get("/history.xlsx").body)).active
    assert [c.value for c in history[1]][:4] == ["受付番号", "日時", "変更前", "変更後"]


@pytest.mark.parametrize("export", [("/applications.csv", {}), ("/applications.xlsx", {}),
                                    ("/applications.csv", {"encoding": "cp932"})])
def test_re_importing_an_export_changes_nothing(imported, programme, session_factory, export):
    path, params = export
    if params:   # Shift_JIS cannot hold 𠮷: without it the round trip is exact, too
        with session_factory() as s, s.begin():
            s.execute(select(Application).where(
                Application.receipt_number_normalised == "12345680")).scalar_one().name = \
                "吉田　次郎"
    before = _state(session_factory)
    body = imported.get(path, params).body
    name = "export" + path[-5:].replace("s.", ".")
    dry = upload(imported, programme, body, name, status=200)
    assert "<strong>0</strong> 件を変更" in dry.text and "3 件は変更なし" in dry.text
    confirm(imported, dry)
    assert _state(session_factory) == before


def _state(session_factory):
    with session_factory() as s:
        return [tuple(getattr(a, c) for c in ("receipt_number", "name", "kana", "birth_date",
                                               "address", "phone", "route", "received_on",
                                               "status_code", "notes", "version"))
                for a in s.execute(select(Application).order_by(Application.id)).scalars()]


def test_an_xlsx_file_goes_through_the_same_column_plan(as_role, programme, session_factory):
    book = Workbook()
    sheet = book.active
    sheet.append(["受付No", "申請者名", "カナ氏名", "受付日", "処理状況", "備考"])
    sheet.append(["00000077", "髙橋　大輔", "タカハシ　ダイスケ", datetime(2020, 6, 1), "受付", None])
    sheet.append([12345678, "山﨑　花子", "ヤマザキ　ハナコ", "令和2年6月2日", "審査中", "㈱"])
    handle = io.BytesIO()
    book.save(handle)
    app = as_role("supervisor")
    dry = upload(app, programme, handle.getvalue(), "list.xlsx", status=200)
    assert "Excel" in dry.text and "<td>申請者名</td><td>氏名</td>" in dry.text
    assert "<td>2020/06/01</td><td>2020年6月1日</td>" in dry.text
    confirm(app, dry)
    with session_factory() as s:
        rows = {a.receipt_number: a for a in s.execute(select(Application)).scalars()}
    assert rows["00000077"].name == "髙橋　大輔" and rows["12345678"].status_code == "reviewing"


def test_a_file_that_is_a_zip_but_not_a_workbook_is_refused_plainly(as_role, programme):
    response = upload(as_role("supervisor"), programme, b"PK\x03\x04garbage", "list.xlsx",
                      status=400)
    assert "Excel ファイル（.xlsx）として読めません" in response.text


def _needed(value) -> int:
    """Digit widths a value takes as Excel shows it (full-width characters two), computed
    here apart from the writer's own measure."""
    if isinstance(value, datetime):
        return 10 if value.time() == datetime.min.time() else 16   # yyyy/mm/dd [hh:mm]
    text = "" if value is None else str(value)
    return max((sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in line)
                for line in text.splitlines()), default=0)


@pytest.mark.parametrize("path", ["/applications.xlsx", "/history.xlsx"])
def test_xlsx_columns_are_wide_enough_and_times_are_date_time_cells(imported, session_factory,
                                                                    path):
    with session_factory() as s, s.begin():   # a long full-width address, a long receipt
        first = s.execute(select(Application).where(
            Application.receipt_number_normalised == "12345680")).scalar_one()
        first.address = "神奈川県相模原市中央区中央二丁目１１番１５号①"
    sheet = load_workbook(io.BytesIO(imported.get(path).body)).active
    header = [c.value for c in sheet[1]]
    for column in sheet.iter_cols():
        letter = column[0].column_letter
        width = sheet.column_dimensions[letter].width
        needed = max(_needed(cell.value) for cell in column)
        assert width >= min(needed, 60), (header[column[0].column - 1], width, needed)
        for cell in column[1:]:
            if isinstance(cell.value, datetime):   # never ######## and never text
                assert cell.number_format in ("yyyy/mm/dd", "yyyy/mm/dd hh:mm")
                assert width >= _needed(cell.value)
    when = header.index("更新日時" if path == "/applications.xlsx" else "日時") + 1
    stamps = [row[when - 1] for row in sheet.iter_rows(min_row=2)]
    assert stamps and all(isinstance(c.value, datetime) and c.number_format ==
                          "yyyy/mm/dd hh:mm" for c in stamps)
    assert all(abs(c.value - datetime.now(JST).replace(tzinfo=None)).total_seconds() < 600
               for c in stamps)                  # Japan time, as the screens show it
    if path == "/applications.xlsx":
        address = sheet.column_dimensions[get_column_letter(header.index("住所") + 1)].width
        assert address >= 2 * len("神奈川県相模原市中央区中央二丁目１１番１５号①")
        received = [row[header.index("申請日")] for row in sheet.iter_rows(min_row=2)]
        assert all(c.is_date and c.number_format == "yyyy/mm/dd" for c in received)
