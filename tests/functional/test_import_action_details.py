"""Import with action details: 不備の種類 by name or code under the usual headers, 書類送付日
and 返送期限 in any date form; each bad cell refused with its line, column, value and why."""

import re
from datetime import date

import pytest
import transaction
from sqlalchemy import select, update

from intranet.applications.models import Application
from intranet.db import get_tm_session
from intranet.deficiencies.models import DeficiencyKind
from lab.import_files import csv_text
from tests.factories import make_applications, make_programme
from tests.functional.test_imports import confirm, upload


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    programme = make_programme(session_factory, kinds=True)
    make_applications(session_factory, programme, 3, status="reviewing", start=12345678)
    return programme


def status_rows(rows, header=("受付番号", "状況", "不備内容", "不備の種類", "書類送付日", "返送期限")):
    return csv_text(rows, list(header)).encode("cp932")


def stored(dbsession):
    dbsession.expire_all()
    return {a.receipt_number_normalised: (a.status_code, a.deficiency_kinds, a.documents_sent_on,
                                          a.return_by)
            for a in dbsession.execute(select(Application)).scalars()}


def errors(response):
    """(line, column, value, why) of each error row on the dry run."""
    table = response.text.split("エラー ")[1]
    return [tuple(re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row))
            for row in re.findall(r"<tr>(<td>.*?)</tr>", table, re.S)]


@pytest.mark.parametrize("header", [
    ("受付番号", "状況", "不備内容", "不備の種類", "書類送付日", "返送期限"),
    ("受付Ｎｏ．", "処理状況", "不備理由", "不備種別（複数可）", "書類発送日", "再提出期限"),
    ("receipt_number", "status", "deficiency_reason", "deficiency kinds", "documents_sent_on",
     "return_by"),
])
def test_a_result_file_marks_applications_deficient_with_kinds_by_name_or_code(
        as_role, programme, dbsession, header):
    app = as_role("supervisor")
    data = status_rows([
        ["12345678", "不備あり", "免許証が裏面のみ", "本人確認書類の写しがない、署名がない", "令和8年5月20日",
         "2026/6/10"],
        ["1234-5679", "deficient", "口座不鮮明", "bank_proof", "R8.5.20", "20260610"],
        ["12345680", "審査中", "", "", "", ""],
    ], header)
    dry = upload(app, programme, data, status=200)
    assert "<strong>2</strong> 件を変更" in dry.text, dry.text
    assert confirm(app, dry).status_int == 303
    after = stored(dbsession)
    assert after["12345678"] == ("deficient", 0b101, date(2026, 5, 20), date(2026, 6, 10))
    assert after["12345679"] == ("deficient", 0b10, date(2026, 5, 20), date(2026, 6, 10))
    assert after["12345680"] == ("reviewing", 0, None, None)


def test_each_bad_action_cell_is_refused_with_line_column_and_why(as_role, programme, dbsession):
    app = as_role("supervisor")
    before = stored(dbsession)
    data = status_rows([
        ["12345678", "不備あり", "x", "押印がない", "2026-05-20", "2026-06-10"],          # unknown kind
        ["12345679", "不備あり", "x", "id_copy", "2026-05-20", "2026-05-19"],             # deadline first
        ["12345680", "支給決定", "", "署名がない", "", ""],                                 # no action
    ])
    dry = upload(app, programme, data, status=400)
    found = errors(dry)
    assert found[0][:3] == ("2", "不備の種類", "押印がない")
    assert "この事業にありません" in found[0][3] and "署名がない" in found[0][3]   # names the valid
    assert found[1][:3] == ("3", "返送期限", "2026-05-19") and "より前です" in found[1][3]
    assert found[2][:3] == ("4", "不備の種類", "署名がない")
    assert "「支給決定」は住民の手続きが必要な状況ではない" in found[2][3]
    assert "エラーがあるため取り込めません" in dry.text
    assert stored(dbsession) == before


@pytest.mark.parametrize(("cell", "words"), [
    ("、".join(f"種類{n}" for n in range(200)), "不備の種類「種類0」はこの事業にありません"),
    ("x" * 2100, "長すぎます"),
    ("=HYPERLINK(\"http://x\")", "数式のように見える値"),
])
def test_hostile_kind_cells_are_refused(as_role, programme, dbsession, cell, words):
    before = stored(dbsession)
    dry = upload(as_role("supervisor"), programme,
                 status_rows([["12345678", "不備あり", "x", cell, "", ""]]), status=400)
    assert words in errors(dry)[0][3]
    assert stored(dbsession) == before


def test_a_new_round_clears_the_last_rounds_details_the_file_does_not_state(
        as_role, programme, dbsession):
    app = as_role("supervisor")
    confirm(app, upload(app, programme, status_rows([
        ["12345678", "不備あり", "x", "id_copy、signature", "2026-05-20", "2026-06-10"]])))
    confirm(app, upload(app, programme, status_rows([["12345678", "審査中", "", "", "", ""]])))
    # Kept while under review (residents do not see them then), and an export states them:
    # re-importing what is stored is no change and no refusal.
    assert stored(dbsession)["12345678"] == ("reviewing", 0b101, date(2026, 5, 20),
                                             date(2026, 6, 10))
    again = upload(app, programme, status_rows([
        ["12345678", "審査中", "", "id_copy、signature", "2026-05-20", "2026-06-10"]]), status=200)
    assert "1 件は変更なし" in again.text
    # Back to 不備あり with a deadline only: the earlier kinds and sent date are not carried over.
    confirm(app, upload(app, programme, status_rows(
        [["12345678", "不備あり", "y", "", "", "2026-07-31"]])))
    assert stored(dbsession)["12345678"] == ("deficient", 0, None, date(2026, 7, 31))
    # Between two statuses that need action, a blank cell keeps what is stored.
    confirm(app, upload(app, programme, status_rows(
        [["12345678", "再提出待ち", "", "記入漏れ", "", ""]])))
    assert stored(dbsession)["12345678"] == ("awaiting_resubmission", 0b1000, None,
                                             date(2026, 7, 31))


def test_new_applications_may_arrive_deficient_with_their_kinds(as_role, programme, dbsession):
    app = as_role("supervisor")
    header = ["受付番号", "氏名", "申請日", "状況", "不備内容", "不備の種類", "返送期限"]
    data = csv_text([["20000001", "相模　花子", "2026-05-01", "不備あり", "印なし", "signature",
                      "2026-06-30"]], header).encode("utf-8")
    assert confirm(app, upload(app, programme, data, status=200)).status_int == 303
    assert stored(dbsession)["20000001"] == ("deficient", 0b100, None, date(2026, 6, 30))


def test_a_retired_kind_reads_back_where_it_is_stored_and_nowhere_else(
        as_role, programme, session_factory):
    app = as_role("supervisor")
    confirm(app, upload(app, programme, status_rows([
        ["12345678", "不備あり", "x", "署名がない", "", ""]])))
    with transaction.manager:
        get_tm_session(session_factory, transaction.manager).execute(
            update(DeficiencyKind).where(DeficiencyKind.code == "signature").values(retired=True))
    # An export re-imported states the retired kind the application has: no change.
    again = upload(app, programme, status_rows([["12345678", "不備あり", "x", "署名がない", "", ""]]),
                   status=200)
    assert "1 件は変更なし" in again.text
    refused = upload(app, programme, status_rows([["12345679", "不備あり", "x", "署名がない", "", ""]]),
                     status=400)
    assert errors(refused)[0][:3] == ("2", "不備の種類", "署名がない")
    assert "使わなくなった種類" in errors(refused)[0][3]
