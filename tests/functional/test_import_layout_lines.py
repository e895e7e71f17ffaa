"""Import layouts typed as the editor's hint says (issue 26): one 「列名: 項目」 a line, saved and
used by a real import; each mistake named by its line; JSON (saved layouts, the CLI's
--mapping) read as before. Also the dry run's other two defects: a file with no header at all
is told so before what a header holds, and the date table shows one row per date column."""

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.imports.models import ImportLayout
from lab.import_files import HEADER, PEOPLE, csv_text
from lab.intranet_ini import INI
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme
from tests.functional.test_import_layouts import BANK_FILE, LAYOUT, save, upload_with
from tests.functional.test_imports import confirm, upload
from tests.visible_text import visible_text

# As a clerk types it: a full-width colon, a blank line, spaces (U+3000 too) around, an
# item by another of its names.
LINES = ("お客様番号：受付番号\r\n"
         "\r\n"
         "\u3000結果区分 : 処理状況\u3000\r\n"
         "処理状況（旧）: 取り込まない\r\n")
SHOWN = "お客様番号: 受付番号\n結果区分: 処理状況\n処理状況（旧）: 取り込まない"


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


def textarea(page):
    found = re.search(r'<textarea id="layout-mapping"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert found, "no layout textarea"
    return html.unescape(found.group(1)).replace("\r\n", "\n").strip("\n")


def english(app):
    app.post("/language", {"locale": "en", "csrf_token": csrf_token(app.get("/imports"))})
    return app


def test_a_layout_typed_in_lines_is_saved_and_reads_a_real_import(
        as_role, programme, session_factory, dbsession):
    make_applications(session_factory, programme, 1, status="approved")
    app = as_role("supervisor")     # a file that moves statuses takes the bulk permission
    save(app, programme, "銀行の結果ファイル", LINES)
    layout = dbsession.execute(select(ImportLayout)).scalar_one()
    # Saved as the JSON the CLI's --mapping takes, names and items as written.
    assert json.loads(layout.mapping) == {"お客様番号": "受付番号", "結果区分": "処理状況",
                                          "処理状況（旧）": "取り込まない"}
    dry = upload_with(app, programme, layout.id, BANK_FILE, status=200)
    assert "<td>お客様番号</td><td>受付番号</td>" in dry.text
    assert "<td>結果区分</td><td>状況</td>" in dry.text
    assert "<td>処理状況（旧）</td><td><span class=\"muted\">取り込まない</span></td>" in dry.text
    assert confirm(app, dry).status_int == 303
    with session_factory() as s:
        assert s.execute(select(Application.status_code)).scalar_one() == "payment_scheduled"
    # Shown again for editing in lines, and saved again unchanged from what is shown.
    page = app.get(f"/imports/layouts/{layout.id}")
    assert textarea(page) == SHOWN
    save(app, programme, "銀行の結果ファイル", textarea(page), path=f"/imports/layouts/{layout.id}")
    dbsession.expire_all()
    assert json.loads(layout.mapping)["結果区分"] == "処理状況"


def test_the_editor_shows_its_example_in_lines_and_the_hint_says_so(as_role):
    page = as_role("staff").get("/imports/layouts")
    example = textarea(page)
    assert example.splitlines()[0] == "お客様番号: 受付番号" and "{" not in example
    assert "取り込まない" in example
    text = visible_text(page.text)
    assert "列の読み方（ファイルの列名: 取り込む項目）" in text
    assert "一行に一つ、「ファイルの列名: 取り込む項目」の形で書きます（例: お客様番号: 受付番号）" in text
    assert "全角の「：」でもかまいません" in text


LINE_ERRORS = [
    ("お客様番号: 受付番号\nマイナンバー: 備考",
     "対応表の 2 行目の「マイナンバー」は個人番号（マイナンバー）の列です。個人番号は取り込めません。",
     "Line 2 of the layout names “マイナンバー”, a My Number column."),
    ("お客様番号: 受付番号\n\ufeff結果区分: 状況",            # a BOM pasted in the middle
     "対応表の 2 行目に見えない文字（U+FEFF）があります。",
     "Line 2 of the layout holds an invisible character (U+FEFF)."),
    ("お客様番号\u200b: 受付番号\n結果区分: 状況",
     "対応表の 1 行目に見えない文字（U+200B）があります。",
     "Line 1 of the layout holds an invisible character (U+200B)."),
    ("お客様番号: 受付番号\n結果区分 状況",
     "対応表の 2 行目「結果区分 状況」にコロン（:）がありません。",
     "Line 2 of the layout (“結果区分 状況”) has no colon."),
    ("お客様番号: 受付番号\n\n：状況",
     "対応表の 3 行目は、コロンの前にファイルの列名がありません。",
     "Line 3 of the layout has no column name before the colon."),
    ("お客様番号: 受付番号\n結果区分: 口座番号",
     "対応表の 2 行目の「口座番号」は、取り込める項目ではありません（「結果区分」列の行き先）。",
     "On line 2 of the layout, “口座番号” (where column “結果区分” goes) is not a field"),
    ("お客様番号: 受付番号\n結果区分: 状況\nお客様 番号: 取り込まない",
     "対応表の 3 行目の「お客様 番号」は、1 行目と同じ列です。",
     "Line 3 of the layout names column “お客様 番号” again: it is the same column as line 1."),
    ("お客様番号: 受付番号\n結果区分：\u3000",
     "対応表の 2 行目は、「結果区分」の後に取り込む項目がありません。",
     "Line 2 of the layout names no field after “結果区分”."),
    ("\r\n\u3000\r\n", "対応表が空です。", "The layout is empty."),
]


@pytest.mark.parametrize(("mapping", "japanese", "_english"), LINE_ERRORS)
def test_each_mistake_is_named_by_its_line_and_nothing_is_saved(
        as_role, programme, dbsession, mapping, japanese, _english):
    response = save(as_role("staff"), programme, "銀行", mapping, status=400)
    assert japanese in visible_text(response.text) and "Traceback" not in response.text
    assert "JSON" not in visible_text(response.text.split('id="layout-hint"')[0])
    assert textarea(response) == mapping.replace("\r\n", "\n").strip("\n")   # kept to fix
    assert dbsession.execute(select(ImportLayout)).first() is None


@pytest.mark.parametrize(("mapping", "_japanese", "words"), LINE_ERRORS)
def test_each_mistake_is_english_in_the_english_ui(as_role, programme, mapping, _japanese,
                                                   words):
    response = save(english(as_role("staff")), programme, "bank", mapping, status=400)
    text = visible_text(response.text)
    assert words in text and "行目" not in text


def test_a_layout_in_json_is_still_accepted_and_shown_again_in_lines(
        as_role, programme, session_factory, dbsession):
    make_applications(session_factory, programme, 1, status="approved")
    app = as_role("supervisor")
    save(app, programme, "銀行（JSON）", LAYOUT)
    layout = dbsession.execute(select(ImportLayout)).scalar_one()
    assert json.loads(layout.mapping) == json.loads(LAYOUT)
    dry = upload_with(app, programme, layout.id, BANK_FILE, status=200)
    assert "<td>結果区分</td><td>状況</td>" in dry.text
    assert textarea(app.get(f"/imports/layouts/{layout.id}")) == (
        "お客様番号: 受付番号\n結果区分: 状況\n処理状況（旧）: 取り込まない")


def test_a_layout_saved_before_as_json_with_null_is_read_and_shown_in_lines(
        as_role, programme, session_factory, dbsession):
    from intranet.audit.writer import utcnow

    make_applications(session_factory, programme, 1, status="approved")
    with session_factory() as s, s.begin():
        s.add(ImportLayout(programme_id=programme, name="前からある対応表", updated_at=utcnow(),
                           mapping='{\n  "お客様番号": "受付番号",\n  "結果区分": "status",\n'
                                   '  "処理状況（旧）": null\n}'))
    layout_id = dbsession.execute(select(ImportLayout.id)).scalar_one()
    app = as_role("supervisor")
    assert textarea(app.get(f"/imports/layouts/{layout_id}")) == (
        "お客様番号: 受付番号\n結果区分: status\n処理状況（旧）: 取り込まない")
    dry = upload_with(app, programme, layout_id, BANK_FILE, status=200)
    assert "<td>結果区分</td><td>状況</td>" in dry.text


def test_a_json_layout_still_refuses_as_json(as_role, programme):
    response = save(as_role("staff"), programme, "銀行", '{"お客様番号": "受付番号",', status=400)
    assert "対応表が JSON として読めません（1 行目付近）" in visible_text(response.text)


def _cli(db_url, tmp_path, *args):
    config = tmp_path / "cli.ini"
    config.write_text(INI.format(url=db_url.replace("%", "%%")))
    command = [str(Path(sys.executable).parent / "shinsei-intranet"), "-c", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_the_cli_mapping_reads_json_as_before_and_a_layout_saved_from_lines(
        as_role, session_factory, dbsession, db_url, tmp_path):
    programme = make_programme(session_factory, code="p2020")
    make_applications(session_factory, programme, 1, status="approved")
    source = tmp_path / "bank.csv"
    source.write_bytes(BANK_FILE)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(LAYOUT, encoding="utf-8")
    dry = _cli(db_url, tmp_path, "import", str(source), "--programme", "p2020", "--dry-run",
               "--mapping", str(mapping))
    assert dry.returncode == 0, dry.stderr
    assert "changed 1" in dry.stdout and "column 結果区分 -> 状況" in dry.stdout
    assert "column 処理状況（旧） -> (not imported)" in dry.stdout
    # The JSON a layout typed in lines is saved as is a --mapping file as it stands.
    save(as_role("staff"), programme, "銀行", LINES)
    mapping.write_text(dbsession.execute(select(ImportLayout.mapping)).scalar_one(),
                       encoding="utf-8")
    again = _cli(db_url, tmp_path, "import", str(source), "--programme", "p2020", "--dry-run",
                 "--mapping", str(mapping))
    assert again.returncode == 0 and again.stdout == dry.stdout
    mapping.write_text('{"お客様番号": "受付番号",', encoding="utf-8")
    broken = _cli(db_url, tmp_path, "import", str(source), "--programme", "p2020",
                  "--mapping", str(mapping))
    assert broken.returncode == 2 and "JSON として読めません" in broken.stderr


# A file with no header: rows of values only, or anything that is no list at all.
NO_HEADER = {
    "rows only": csv_text(PEOPLE, []).encode("cp932"),
    "garbage": b"lorem ipsum,dolor\r\n12,34,56\r\n\r\n;;;\r\n",
}


@pytest.mark.parametrize("case", sorted(NO_HEADER))
def test_a_file_with_no_header_is_told_so_first_then_what_a_header_holds(
        as_role, programme, case):
    refused = upload(as_role("supervisor"), programme, NO_HEADER[case], status=400)
    text = visible_text(refused.text)
    assert "見出しの行が見つかりません（最初の 10 行に、列名の並んだ行がありません）。" in text
    found = text.index("見出しの行が見つかりません")
    full = text.index("申請者一覧なら 受付番号・氏名・申請日")
    assert found < full < text.index("状況だけのファイルなら 受付番号・状況")
    assert "必須の列がありません" not in text
    assert "髙橋" not in text and "1234-5678" not in text     # a row's values never quoted


def test_no_header_is_english_in_the_english_ui(as_role, programme):
    refused = upload(english(as_role("supervisor")), programme, NO_HEADER["rows only"], status=400)
    text = visible_text(refused.text)
    assert "No header row found (none of the first 10 lines lists column names)." in text
    assert text.index("applicant list") < text.index("status-only file")


def test_a_real_header_lacking_a_column_keeps_its_message_applicant_list_first(
        as_role, programme):
    refused = upload(as_role("supervisor"), programme, "受付番号,備考\r\n00000001,a\r\n".encode(),
                     status=400)
    text = visible_text(refused.text)
    assert ("必須の列がありません: 状況（申請者一覧なら 受付番号・氏名・申請日、"
            "状況だけのファイルなら 受付番号・状況 が必要です）。") in text
    assert "見出しの行が見つかりません" not in text


def test_the_date_table_shows_one_row_per_date_column_its_first_example(as_role, programme):
    dry = upload(as_role("supervisor"), programme, csv_text(PEOPLE).encode("cp932"), status=200)
    table = dry.text.split('id="dates-read"')[1].split("</table>")[0]
    assert "各列の最初の例" in table
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)
    columns = [title for title, _, _ in rows]
    assert len(columns) == len(set(columns)) == 2, rows     # 生年月日 and 申請日, once each
    assert ("申請日", "令和2年6月1日", "2020年6月1日") in rows
    assert ("生年月日", "昭和55年1月2日", "1980年1月2日") in rows
    assert "R2.6.2" not in table and "20200603" not in table
    assert HEADER[6] == "申請日"


@pytest.mark.parametrize("named", ["1,2", "2020", "2020/6/1"])
def test_a_header_with_a_column_named_in_figures_is_still_the_header(as_role, programme,
                                                                    named):
    """A row of values has as many cells in figures as cells naming a column; a header
    names more."""
    data = (f"受付番号,氏名,申請日,{named}\r\n12345678,佐藤　次郎,令和2年6月1日,{named}\r\n"
            ).encode("cp932")
    dry = upload(as_role("supervisor"), programme, data, status=200)
    assert "見出しの行: 1 行目" in visible_text(dry.text)
