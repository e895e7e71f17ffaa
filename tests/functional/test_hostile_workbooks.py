""".xlsx files made to hurt the server, through the import screen (issue 25 item 4).

Each is refused with a Japanese sentence naming the file and what is wrong (400, never a
500 or a traceback), the refusal is logged as every import refusal is, and the database
is as it was."""

import logging

import pytest

from lab import hostile_workbooks as hostile
from tests.functional.test_imports import confirm, programme, state, upload  # noqa: F401

NAME = "申請者一覧.xlsx"
ATTACKS = {
    "zip bomb": (hostile.zip_bomb, "は展開すると大きすぎます"),
    "lying central directory": (hostile.lying_bomb, "zip に書かれた大きさと違います"),
    "many parts": (hostile.many_parts, "zip 内のファイル（部品）が多すぎます"),
    "a million columns in one row": (hostile.wide_row, "圧縮率が異常に高く"),
    "billion laughs": (hostile.billion_laughs, "xl/worksheets/sheet1.xml に DTD"),
    "external entity to /etc/passwd": (hostile.external_entity, "xl/sharedStrings.xml に DTD"),
    "external relationship target": (hostile.external_target, "ブックの外への参照"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_hostile_workbook_is_refused_by_name_and_changes_nothing(as_role, programme,  # noqa: F811
                                                                    dbsession, caplog, attack):
    make, message = ATTACKS[attack]
    app = as_role("supervisor")
    with caplog.at_level(logging.WARNING, logger="intranet.imports.views"):
        response = upload(app, programme, make(), NAME, status=400)
    assert f"ファイル {NAME} " in response.text and message in response.text
    assert "Traceback" not in response.text and "この内容で取り込む" not in response.text
    assert state(dbsession) == (0, 0, 0)
    assert any("import refused" in r.getMessage() and NAME in r.getMessage()
               for r in caplog.records)


def test_a_larger_legitimate_workbook_still_imports(as_role, programme, dbsession):  # noqa: F811
    from lab.import_files import HEADER, PEOPLE

    rows = [HEADER, *[[f"{70000000 + n}", *PEOPLE[0][1:]] for n in range(3000)]]
    app = as_role("supervisor")
    dry = upload(app, programme, hostile.workbook(hostile.sheet_xml(rows)), NAME, status=200)
    assert "<strong>3,000</strong> 件を新規登録" in dry.text
    assert confirm(app, dry).status_int == 303
    assert state(dbsession)[0] == 3000
