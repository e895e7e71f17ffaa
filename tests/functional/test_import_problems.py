"""Refusals that teach (issue 26 item 5): the same problem on 390 rows is one line with the
count, the first rows and the column to add; a column present but empty is to be filled."""

import pytest

from lab.import_files import csv_text
from tests.conftest import csrf_token
from tests.factories import make_programme
from tests.functional.test_imports import state, upload
from tests.visible_text import visible_text


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


def deficient_rows(count=390, with_reason_column=False):
    """``count`` rows 不備あり with no 不備内容, on every 7th line among rows that are fine."""
    header = ["受付番号", "氏名", "申請日", "状況", *(["不備内容"] if with_reason_column else [])]
    rows, bad = [], 0
    for n in range(7 * count):
        deficient = (n + 2) % 7 == 1 and n > 0            # lines 8, 15, 22 …
        bad += deficient
        rows.append([f"{80000000 + n}", "田中　太郎", "令和2年6月1日",
                     "不備あり（書類返送）" if deficient else "受付済",
                     *([""] if with_reason_column else [])])
    return csv_text(rows, header).encode("cp932"), bad


def test_390_rows_with_the_same_problem_are_one_line_naming_the_column(as_role, programme,
                                                                      dbsession):
    data, bad = deficient_rows(390)
    assert bad == 390
    response = upload(as_role("supervisor"), programme, data, status=400)
    text = visible_text(response.text)
    assert text.count("にするには不備の内容が必要です") == 1
    assert "390 行 8、15、22、29、36 … 状況 不備あり（書類返送）" in text
    assert "「不備内容」列を追加して、これらの行に書いてください。" in text
    assert state(dbsession) == (0, 0, 0)


def test_an_empty_column_is_named_to_be_filled(as_role, programme):
    data, _bad = deficient_rows(20, with_reason_column=True)
    response = upload(as_role("supervisor"), programme, data, status=400)
    assert "「不備内容」列の、これらの行の空欄を埋めてください。" in visible_text(response.text)


def test_the_required_columns_and_their_variants_are_listed_before_the_first_attempt(as_role):
    app = as_role("supervisor")
    page = app.get("/imports")
    text = visible_text(page.text)
    assert "申請者一覧には 受付番号・氏名・申請日 の列が" in text
    assert "<th scope=\"row\">申請日</th><td>必須</td><td></td><td>受付日、受付年月日" in page.text
    assert "<th scope=\"row\">状況</th><td></td><td>必須</td>" in page.text
    assert 'id="column-guide" open' in page.text
    layouts = visible_text(app.get("/imports/layouts").text)
    assert "--mapping" not in layouts and "コマンド" not in layouts
    assert "取り込める列" in layouts


def _download_form(page):
    """The dry run's 「問題の一覧」 form, as the browser would post it."""
    import re

    section = page.text.split('class="problems-download"')[1].split("</form>")[0]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', section))


def _spooled(tmp_path):
    return sorted(p.name for p in (tmp_path / "spool").iterdir())


def test_the_dry_run_offers_every_problem_as_a_csv_and_leaves_nothing_on_disk(
        as_role, programme, dbsession, tmp_path):
    import csv
    import json

    from sqlalchemy import select

    from intranet.audit.models import AuditRecord

    data, bad = deficient_rows(390)
    formula = csv_text([["90000001", "=HYPERLINK(\"x\")", "令和2年6月1日", "＝1+1"]],
                       ["受付番号", "氏名", "申請日", "状況"]).split("\r\n", 1)[1]
    data += formula.encode("cp932")
    app = as_role("staff")
    page = upload(app, programme, data, status=400)
    # 390 rows 不備あり without 不備内容, and a formula in a name and in a status
    assert "問題の一覧をすべてダウンロード（CSV）" in page.text and "392 件すべて" in page.text
    spooled = _spooled(tmp_path)
    form = _download_form(page)
    response = app.post("/imports/problems.csv", form)
    assert response.content_type == "text/csv" and "取込の問題_applicants.csv" in \
        __import__("urllib.parse").parse.unquote(response.headers["Content-Disposition"])
    assert response.body.startswith(b"\xef\xbb\xbf")            # Excel opens it as UTF-8
    rows = list(csv.reader(response.body.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["種類", "行", "列", "値", "理由", "直し方"] and len(rows) == 1 + bad + 2
    eighth = next(r for r in rows if r[1] == "8")
    assert eighth[:4] == ["取り込めない行", "8", "状況", "不備あり（書類返送）"]
    assert eighth[5] == "「不備内容」列を追加して、これらの行に書いてください。"
    last = str(7 * 390 + 2)
    assert sorted(r[3] for r in rows if r[1] == last) == ["'=HYPERLINK(\"x\")", "'＝1+1"]
    assert _spooled(tmp_path) == spooled            # the CSV was made in memory
    assert state(dbsession) == (0, 0, 0)
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.target == "import_problems.csv")).scalar_one()
    assert record.action == "export" and json.loads(record.details)["rows"] == 392
    # Another person cannot fetch it with the same form; cancelling removes the upload.
    other = as_role("supervisor")
    refused = other.post("/imports/problems.csv", {**form, "csrf_token":
                                                   csrf_token(other.get("/imports"))}, status=400)
    assert "確認したファイルが見つかりません" in refused.text
    mine = as_role("staff")
    mine.post("/imports", {**form, "csrf_token": csrf_token(mine.get("/imports")),
                           "cancel": "1"}, status=303)
    assert _spooled(tmp_path) == []
