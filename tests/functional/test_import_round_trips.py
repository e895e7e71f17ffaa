"""Files out, files in, nothing lost (issue 26): a CP932 export marks what it cannot hold as
〓, and re-importing it keeps the stored characters — saying so, row by row, with the values;
a file that would put 〓 where a stored character stood, or store a 外字, is refused."""

import re

import pytest
from sqlalchemy import select

from intranet.applications.exports import EXPORT_HEADER
from intranet.applications.models import Application
from intranet.fields import FIELD_WORDS
from lab.import_files import HEADER, PEOPLE, encoded
from tests.factories import make_programme
from tests.functional.test_import_problems import _download_form
from tests.functional.test_imports import confirm, upload
from tests.visible_text import visible_text


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


@pytest.fixture
def stored(as_role, programme, session_factory):
    """The three people, then what only the screens store: a name outside Shift_JIS, an
    address with ♥, a 外字 in the notes, and CR LF in an address."""
    app = as_role("supervisor")
    confirm(app, upload(app, programme, encoded()))
    with session_factory() as s, s.begin():
        rows = {a.receipt_number_normalised: a for a in s.execute(select(Application)).scalars()}
        rows["12345680"].name = "𠮷田　次郎"
        rows["12345680"].address = "相模原市♥"
        rows["12345679"].notes = "髙\ue000の字"
        rows["12345678"].address = "中央区\r\n1丁目"
    return app


def _state(session_factory):
    with session_factory() as s:
        return [tuple(getattr(a, c) for c in ("receipt_number", "name", "kana", "address",
                                               "phone", "notes", "search_key", "version"))
                for a in s.execute(select(Application).order_by(Application.id)).scalars()]


def test_a_cp932_export_re_imported_keeps_what_it_could_not_hold(stored, programme,
                                                                 session_factory):
    before = _state(session_factory)
    body = stored.get("/applications.csv", {"encoding": "cp932", "replace": "1"}).body
    assert "〓田　次郎".encode("cp932") in body and "相模原市〓".encode("cp932") in body
    assert b"\xf0\x40" not in body                      # the 外字 is marked, not written
    dry = upload(stored, programme, body, "export.csv", status=200)
    text = visible_text(dry.text)
    assert "<strong>0</strong> 件を変更" in dry.text and "3 件は変更なし" in dry.text
    # Each kept value listed: line, column, the stored value and the file's.
    assert "登録済みの値を残す行 3 件" in text
    assert "<td>氏名</td><td>𠮷田　次郎</td><td>〓田　次郎</td>" in dry.text
    assert "<td>住所</td><td>相模原市♥</td><td>相模原市〓</td>" in dry.text
    assert "<td>備考</td><td>髙\ue000の字</td><td>髙〓の字</td>" in dry.text
    done = confirm(stored, dry).follow()
    assert "3 件の値は、ファイルでは 〓 だったため登録済みのまま残しました" in done.text
    assert _state(session_factory) == before


def test_the_export_counts_a_gaiji_as_it_counts_what_cp932_cannot_hold(stored):
    warning = stored.get("/applications.csv", {"encoding": "cp932"}, status=409)
    assert "2 件の行に Shift_JIS（CP932）で表せない文字があります" in warning.text


def test_an_edit_that_puts_geta_where_a_stored_character_stood_is_refused(
        stored, programme, session_factory):
    before = _state(session_factory)
    body = stored.get("/applications.csv", {"encoding": "cp932", "replace": "1"}).body
    edited = body.replace("〓田　次郎".encode("cp932"), "〓田　三郎".encode("cp932"))
    dry = upload(stored, programme, edited, "export.csv", status=400)
    assert "登録済みの「𠮷田　次郎」の「𠮷」を 〓 に置き換えます" in dry.text
    assert "<td>氏名</td><td>〓田　三郎</td>" in dry.text
    assert _state(session_factory) == before


def test_a_geta_in_a_new_row_or_a_changed_value_without_loss_is_stored(
        as_role, programme, session_factory):
    """〓 typed on purpose (the city's way of marking a 外字) is a value like any other."""
    app = as_role("supervisor")
    rows = [[*PEOPLE[0][:1], "〓田　一郎", *PEOPLE[0][2:]]]
    confirm(app, upload(app, programme, encoded(rows), status=200))
    with session_factory() as s:
        assert s.execute(select(Application.name)).scalar_one() == "〓田　一郎"


def test_a_gaiji_is_refused_naming_the_field_the_line_and_the_code_point(
        as_role, programme, session_factory):
    app = as_role("supervisor")
    rows = [PEOPLE[0], [*PEOPLE[1][:1], "山\ue000　花子", *PEOPLE[1][2:]]]
    data = encoded(rows, "utf-8")
    dry = upload(app, programme, data, status=400)
    text = visible_text(dry.text)
    assert "外字が含まれています（U+E000、2 文字目）" in text
    assert "<td>3</td><td>氏名</td>" in dry.text
    # Shift_JIS's user-defined area (F0 40) is the same 外字.
    sjis = encoded(rows[:1]).replace("髙橋".encode("cp932"), b"\xf0\x40\x8b\xb4")
    dry = upload(app, programme, sjis, status=400)
    assert "外字が含まれています（U+E000、1 文字目）" in visible_text(dry.text)
    with session_factory() as s:
        assert s.execute(select(Application)).first() is None


def test_a_gaiji_already_stored_goes_through_utf8_and_xlsx_unchanged(stored, programme,
                                                                     session_factory):
    before = _state(session_factory)
    for path, name in (("/applications.csv", "export.csv"), ("/applications.xlsx", "export.xlsx")):
        dry = upload(stored, programme, stored.get(path).body, name, status=200)
        assert "<strong>0</strong> 件を変更" in dry.text, name
        assert 'id="notices"' not in dry.text
    assert _state(session_factory) == before


def test_a_changed_value_is_shown_before_and_after(stored, programme):
    rows = [[*PEOPLE[0][:1], "髙橋　一朗", *PEOPLE[0][2:]]]
    dry = upload(stored, programme, encoded(rows, header=HEADER), status=200)
    assert "氏名: 髙橋　一郎 → 髙橋　一朗" in dry.text


def test_xlsx_keeps_a_cr_inside_a_cell_and_text_that_looks_escaped(stored, programme,
                                                                   session_factory):
    with session_factory() as s, s.begin():
        s.execute(select(Application).where(Application.receipt_number_normalised ==
                                            "12345679")).scalar_one().notes = "a_x0041_b\r\nc"
    before = _state(session_factory)
    dry = upload(stored, programme, stored.get("/applications.xlsx").body, "export.xlsx",
                 status=200)
    assert "<strong>0</strong> 件を変更" in dry.text and "3 件は変更なし" in dry.text
    confirm(stored, dry)
    assert _state(session_factory) == before


def test_every_export_column_is_read_back_as_the_field_it_was_written_from(stored, programme,
                                                                           session_factory):
    """The list export's header is the import's (intranet.fields): re-imported in
    every format, each column lands on its own field, 事業 and 更新日時 are not imported,
    and nothing changes."""
    before = _state(session_factory)
    for path, name in (("/applications.csv", "export.csv"), ("/applications.xlsx", "export.xlsx")):
        dry = upload(stored, programme, stored.get(path).body, name, status=200)
        assert "<strong>0</strong> 件を変更" in dry.text and "3 件は変更なし" in dry.text, name
        column_plan = dry.text.split('id="column-plan"')[1].split("</table>")[0]
        read = re.findall(r'<tr><td>([^<]*)</td><td>(?:<span class="muted">)?([^<]*)<',
                          column_plan)
        assert read == [(title, title if title in FIELD_WORDS.values() else "取り込まない")
                        for title in EXPORT_HEADER], name
        confirm(stored, dry)
    assert _state(session_factory) == before


def test_a_change_that_puts_geta_where_a_character_stood_is_flagged_for_checking(
        stored, programme, session_factory):
    """Not the CP932 export's own 〓: 山 (which CP932 holds) turned into 〓 by some other
    program, and a character dropped. Imported as the file says — flagged on the dry run,
    with the stored value and the file's, and in the problems download."""
    rows = [[PEOPLE[1][0], "〓﨑　花子", *PEOPLE[1][2:]], [PEOPLE[0][0], "橋　一郎", *PEOPLE[0][2:]]]
    dry = upload(stored, programme, encoded(rows, "utf-8"), status=200)
    text = visible_text(dry.text)
    assert "<strong>2</strong> 件を変更" in dry.text
    assert "確かめてほしい値 2 件" in text
    assert "<td>氏名</td><td>山﨑　花子</td><td>〓﨑　花子</td>" in dry.text
    assert "「山」が 〓 に変わります。〓 は表せなかった文字の印です" in text
    assert "「髙」がなくなります" in text
    listing = stored.post("/imports/problems.csv", _download_form(dry)).body.decode("utf-8-sig")
    assert listing.count("確かめてほしい変更") == 2
    done = visible_text(confirm(stored, dry).follow().text)
    assert ("確かめてほしい値 2 件（〓 や ? が入る、文字がなくなる変更）は、ファイルのとおり"
            "取り込みました") in done
    assert "登録済みのまま残しました" not in done            # nothing was kept
    with session_factory() as s:
        names = set(s.execute(select(Application.name)).scalars())
    assert {"〓﨑　花子", "橋　一郎"} <= names
