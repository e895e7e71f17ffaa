"""The city's 外字 table (issue 26 item 4): with a table a mapped 外字 is imported as its
replacement, the dry run names line, column, code point and replacement, and 備考 keeps the
code point; an unmapped 外字 is still refused; without a table every 外字 is refused."""

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from lab.import_files import PEOPLE, encoded
from tests.conftest import login
from tests.factories import make_programme
from tests.functional.test_imports import confirm, upload
from tests.visible_text import visible_text


@pytest.fixture
def city(app_with, accounts, session_factory, tmp_path):
    table = tmp_path / "gaiji.csv"
    table.write_text("外字,置き換え,メモ\nU+E000,髙,はしごだか\n# 点のある辻\nE001,〓,\n",
                     encoding="utf-8-sig")
    app = app_with(**{"imports.gaiji_table": str(table)})
    login(app, "supervisor")
    return app, make_programme(session_factory)


def _stored(session_factory):
    with session_factory() as s:
        return {a.receipt_number_normalised: (a.name, a.notes, a.version)
                for a in s.execute(select(Application)).scalars()}


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_a_mapped_gaiji_is_replaced_shown_and_its_code_point_kept_in_notes(city,
                                                                            session_factory,
                                                                            encoding):
    app, programme = city
    # U+E000 (Shift_JIS's user-defined F0 40) in a name, U+E001 (F0 41, → 〓) in an address.
    rows = [[*PEOPLE[0][:1], "\ue000橋　一郎", *PEOPLE[0][2:]],
            [*PEOPLE[1][:4], "緑区\ue001-3", *PEOPLE[1][5:]]]
    data = encoded(rows, encoding)
    assert encoding != "cp932" or b"\xf0\x40" in data
    dry = upload(app, programme, data, status=200)
    text = visible_text(dry.text)
    assert "<strong>2</strong> 件を新規登録" in dry.text
    assert "外字 U+E000（1 文字目）は、市の外字表のとおり「髙」として取り込みます。" in text
    assert "<td>2</td><td>氏名</td><td></td><td>髙橋　一郎</td>" in dry.text
    assert "外字 U+E001（3 文字目）は、市の外字表のとおり「〓」として取り込みます。" in text
    confirm(app, dry)
    stored = _stored(session_factory)
    name, notes, _version = stored["12345678"]
    assert name == "髙橋　一郎"
    assert notes == "㈱相模商事 経由\n【外字】氏名 1 文字目: U+E000 → 髙"     # nothing lost
    assert stored["12345679"][1].endswith("【外字】住所 3 文字目: U+E001 → 〓")
    # The same file again: nothing changes, no memo twice.
    again = upload(app, programme, data, status=200)
    assert "<strong>0</strong> 件を変更" in again.text and "2 件は変更なし" in again.text
    confirm(app, again)
    assert _stored(session_factory) == stored


def test_a_gaiji_the_table_does_not_map_is_refused_naming_it(city, session_factory):
    app, programme = city
    rows = [PEOPLE[0], [*PEOPLE[1][:1], "山\ue002　花子", *PEOPLE[1][2:]]]
    dry = upload(app, programme, encoded(rows, "utf-8"), status=400)
    text = visible_text(dry.text)
    assert "市の外字表にない外字です（U+E002、2 文字目）" in text
    assert "<td>3</td><td>氏名</td>" in dry.text
    assert _stored(session_factory) == {}


def test_without_a_table_a_gaiji_is_refused_as_before(as_role, session_factory, app_settings,
                                                       tmp_path):
    programme = make_programme(session_factory)
    app = as_role("supervisor")
    rows = [[*PEOPLE[0][:1], "\ue000橋　一郎", *PEOPLE[0][2:]]]
    dry = upload(app, programme, encoded(rows, "utf-8"), status=400)
    assert "外字が含まれています（U+E000、1 文字目）" in visible_text(dry.text)


def test_notes_too_full_to_keep_the_code_point_refuse_the_row(city, session_factory):
    app, programme = city
    rows = [[*PEOPLE[0][:12], "あ" * 1990 + "\ue000"]]
    dry = upload(app, programme, encoded(rows, "utf-8"), status=400)
    assert "外字の番号を備考に残すと 2000 文字を超えます。" in visible_text(dry.text)
    assert _stored(session_factory) == {}
