"""Files out, files in, nothing lost (issue 26): text holding control characters goes out
as Excel (.xlsx) and CSV (UTF-8, Shift_JIS) and comes back unchanged; a character a screen
cannot show (a 外字) is named by its code point, never printed as an empty gap."""

import io

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import select

from intranet.applications import workbook
from intranet.applications.models import Application, StatusChange
from intranet.characters import shown
from intranet.imports import workbook as reading_workbook
from lab.import_files import PEOPLE, encoded
from tests.conftest import csrf_token
from tests.factories import make_programme
from tests.functional.test_imports import confirm, upload
from tests.visible_text import visible_text

# What the import takes from a UTF-8 CSV and stores as it is: every C0 control but NUL (a
# CSV holding NUL is refused as binary, and PostgreSQL text cannot hold it), TAB, LF and CR
# (kept too, but as line breaks: tests/functional/test_import_round_trips.py), and DEL.
CONTROLS = "".join(chr(c) for c in range(1, 0x20) if chr(c) not in "\t\n\r") + "\x7f"
ADDRESS, NOTES, NAME = "中央区\x1f1番", "ベル\x07あり", "髙橋\x1b\x0b\x0c　一郎"


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


@pytest.fixture
def stored(as_role, programme, session_factory):
    """The three people imported from a UTF-8 CSV whose 住所, 備考 and 氏名 hold control
    characters (the second person's 備考 every one), then a 外字 only the screens store."""
    app = as_role("supervisor")
    rows = [[*PEOPLE[0][:1], NAME, *PEOPLE[0][2:4], ADDRESS, *PEOPLE[0][5:12], NOTES],
            [*PEOPLE[1][:4], "緑区" + CONTROLS, *PEOPLE[1][5:12], "制御" + CONTROLS + "文字"],
            PEOPLE[2]]
    confirm(app, upload(app, programme, encoded(rows, "utf-8"), status=200))
    with session_factory() as s, s.begin():
        people = {a.receipt_number_normalised: a
                  for a in s.execute(select(Application)).scalars()}
        assert (people["12345678"].address, people["12345678"].notes,
                people["12345678"].name) == (ADDRESS, NOTES, NAME)   # stored as they came
        assert people["12345679"].notes == "制御" + CONTROLS + "文字"
        people["12345680"].notes = "髙\ue000の字"
    return app


def _state(session_factory):
    with session_factory() as s:
        return [tuple(getattr(a, c) for c in ("receipt_number", "name", "kana", "birth_date",
                                               "address", "phone", "notes", "search_key",
                                               "version"))
                for a in s.execute(select(Application).order_by(Application.id)).scalars()]


def test_the_xlsx_export_writes_control_characters_as_excel_does(stored):
    response = stored.get("/applications.xlsx", status=200)
    sheet = load_workbook(io.BytesIO(response.body)).active
    header = [c.value for c in sheet[1]]
    first = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "1234-5678")
    assert first[header.index("住所")].value == "中央区_x001F_1番"
    assert first[header.index("備考")].value == "ベル_x0007_あり"
    assert first[header.index("氏名")].value == "髙橋_x001B__x000B__x000C_　一郎"


@pytest.mark.parametrize("export", [("/applications.xlsx", {}, "export.xlsx"),
                                    ("/applications.csv", {}, "export.csv"),
                                    ("/applications.csv", {"encoding": "cp932", "replace": "1"},
                                     "export.csv")],
                         ids=["xlsx", "csv-utf-8", "csv-cp932"])
def test_an_export_re_imported_changes_nothing(stored, programme, session_factory, export):
    path, params, name = export
    before = _state(session_factory)
    body = stored.get(path, params, status=200).body
    dry = upload(stored, programme, body, name, status=200)
    assert "<strong>0</strong> 件を変更" in dry.text and "3 件は変更なし" in dry.text
    assert confirm(stored, dry).status_int == 303
    assert _state(session_factory) == before


def test_the_history_xlsx_holds_a_reason_with_a_control_character(stored, session_factory):
    with session_factory() as s, s.begin():
        s.execute(select(StatusChange).limit(1)).scalar_one().reason = "電話\x07確認"
    sheet = load_workbook(io.BytesIO(stored.get("/history.xlsx", status=200).body)).active
    assert "電話_x0007_確認" in [c.value for c in sheet["G"]]


def test_every_character_xml_cannot_hold_is_written_escaped_and_read_back():
    """NUL too (never stored here, but the rule is whole), and a literal escape before one."""
    unheld = [chr(c) for c in range(0x20) if ILLEGAL_CHARACTERS_RE.match(chr(c))]
    texts = ["".join(unheld), "\ufffe\uffff", "_x0041\x1f", "_x001F_\x00", "a_x0041_b\r\n"]
    handle = io.BytesIO()
    workbook.write(handle, "t", ["備考"], [[text] for text in texts])
    read = [cells[0] for _, cells in reading_workbook.records(handle.getvalue(), "t.xlsx")]
    assert read == ["備考", *texts]


def test_a_gaiji_is_named_by_its_code_point_in_the_warning_and_the_dry_run(
        stored, programme, session_factory):
    warning = stored.get("/applications.csv", {"encoding": "cp932"}, status=409)
    assert "<td>12345680</td><td>外字 U+E000</td>" in warning.text
    before = _state(session_factory)
    body = stored.get("/applications.csv", {"encoding": "cp932", "replace": "1"}).body
    dry = upload(stored, programme, body, "export.csv", status=200)
    assert ("ファイルの「髙〓の字」の 〓 は、Shift_JIS（CP932）の書き出しで表せなかった文字"
            "（外字 U+E000）の印です。") in visible_text(dry.text)
    confirm(stored, dry)
    assert _state(session_factory) == before


def test_the_english_screens_name_a_gaiji_in_english(stored, programme):
    """The kind of a character no screen shows is a word of the reader's language, on the
    export's warning and in the dry run's message alike."""
    page = stored.get("/applications")
    stored.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    warning = stored.get("/applications.csv", {"encoding": "cp932"}, status=409)
    assert "<td>12345680</td><td>gaiji U+E000</td>" in warning.text
    body = stored.get("/applications.csv", {"encoding": "cp932", "replace": "1"}).body
    dry = upload(stored, programme, body, "export.csv", status=200)
    words = visible_text(dry.text)
    assert "could not hold (gaiji U+E000)" in words and "外字" not in words


def test_shown_names_what_a_screen_cannot_show():
    assert shown("𠮷♥𠮷") == "𠮷♥"                       # each once, side by side
    assert shown("𠮷\ue000") == "𠮷、外字 U+E000"
    assert shown("\x07\u00a0\u200b\U000e0100") == \
        "制御文字 U+0007、空白 U+00A0、見えない文字 U+200B、異体字セレクタ U+E0100"
