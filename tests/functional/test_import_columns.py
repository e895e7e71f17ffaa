"""Real-shaped files whose headers and statuses are written as staff write them: every
encoding, the column plan shown first, dates shown as written and as read."""

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from lab.import_files import PEOPLE, csv_text, many_bad_rows
from tests.factories import make_applications, make_programme
from tests.functional.test_imports import confirm, upload

ENCODINGS = ["cp932", "utf-8-sig", "utf-16"]
VARIANT_HEADER = ["受付Ｎｏ．", "氏　名", "氏名（カナ）", "生年月日", "住所", "連絡先電話番号",
                  "受付日", "申請区分", "処理状況", "支払予定日", "支払日", "不備理由", "メモ"]


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


def encode(text, encoding):
    if encoding == "utf-16":
        return text.encode("utf-16")
    return text.encode(encoding)


def file_of(rows, header, encoding):
    delimiter = "\t" if encoding == "utf-16" else ","
    return encode(csv_text(rows, header, delimiter), encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_full_list_with_variant_headers_is_read_and_its_plan_shown_first(
        as_role, programme, dbsession, encoding):
    app = as_role("supervisor")
    dry = upload(app, programme, file_of(PEOPLE, VARIANT_HEADER, encoding), status=200)
    plan = dry.text.split('id="column-plan"')[1].split("</table>")[0]
    assert dry.text.index('id="column-plan"') < dry.text.index("件を新規登録")
    for written, label in [("受付Ｎｏ．", "受付番号"), ("氏　名", "氏名"), ("氏名（カナ）", "フリガナ"),
                           ("処理状況", "状況"), ("支払日", "振込日"), ("メモ", "備考")]:
        assert f"<td>{written}</td><td>{label}</td>" in plan
    dates = dry.text.split('id="dates-read"')[1].split("</table>")[0]
    assert "<td>受付日</td><td>令和2年6月1日</td><td>2020年6月1日</td>" in dates
    assert "<td>生年月日</td><td>昭和55年1月2日</td><td>1980年1月2日</td>" in dates
    assert dates.count("<td>生年月日</td>") == 1        # each column's first example only
    confirm(app, dry)
    rows = {a.receipt_number_normalised: a
            for a in dbsession.execute(select(Application)).scalars()}
    assert rows["12345679"].kana == "ヤマザキ　ハナコ" and rows["12345679"].status_code == "reviewing"
    assert rows["12345678"].phone == "042-000-0001"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("column", ["処理状況", "状態", "ステータス", "状況（結果）"])
def test_a_status_column_under_any_usual_name_changes_the_status(
        as_role, programme, session_factory, dbsession, encoding, column):
    make_applications(session_factory, programme, 1, status="approved")
    rows = [["0000-0001", "振込予定", "令和2年12月25日"]]
    data = file_of(rows, ["申請番号", column, "支払予定日"], encoding)
    app = as_role("supervisor")
    dry = upload(app, programme, data, status=200)
    assert "支給決定 → 振込予定" in dry.text and "<td>令和2年12月25日</td><td>2020年12月25日</td>" in dry.text
    confirm(app, dry)
    assert dbsession.execute(select(Application.status_code)).scalar_one() == "payment_scheduled"


@pytest.mark.parametrize("written", ["不備あり", "不備あり（書類返送）", "不備　あり", "ﾌﾋﾞあり",
                                     "不備", "deficient", "Deficient (returned)"])
def test_status_cells_match_labels_short_labels_and_aliases_folded(
        as_role, programme, session_factory, dbsession, written):
    make_applications(session_factory, programme, 1, status="received")
    data = file_of([["00000001", written, "本人確認書類なし"]], ["受付番号", "状況", "不備内容"],
                   "cp932" if written != "ﾌﾋﾞあり" else "utf-8-sig")
    if written == "ﾌﾋﾞあり":   # half-width kana never folds to kanji: a plain refusal
        response = upload(as_role("supervisor"), programme, data, status=400)
        assert "状況「ﾌﾋﾞあり」は状況の定義にありません" in response.text
        return
    app = as_role("supervisor")
    confirm(app, upload(app, programme, data, status=200))
    assert dbsession.execute(select(Application.status_code)).scalar_one() == "deficient"


def test_an_unused_column_that_looks_like_a_status_is_an_error_naming_it(as_role, programme):
    data = file_of([["00000001", "振込済", "振込済"]], ["受付番号", "状況", "前回の処理状況"], "cp932")
    response = upload(as_role("supervisor"), programme, data, status=400)
    assert "「前回の処理状況」列は「状況」のように見えます" in response.text


def test_errors_show_the_cell_as_written_and_the_column_as_headed(
        as_role, programme, session_factory):
    make_applications(session_factory, programme, 1, status="received")
    data = file_of([["０００００００１", "振込完了", "2020/7/1"]], ["申請番号", "処理状況", "支払日"],
                   "cp932")
    response = upload(as_role("supervisor"), programme, data, status=400)
    errors = response.text.split("<tbody>")[-1]
    assert "<td>処理状況</td><td>振込完了</td>" in errors and "paid" not in errors


def test_the_screen_counts_every_error_and_groups_the_same_one(as_role, programme):
    """1,200 rows with the same problem are one line: the count and the first rows."""
    response = upload(as_role("supervisor"), programme, many_bad_rows(1200), status=400)
    assert "<li>1,200 件のエラー</li>" in response.text
    assert response.text.count("存在しない日付です") == 1
    assert "<td>1,200 行</td><td>2、3、4、5、6 …</td><td>生年月日</td>" \
        "<td>令和2年2月30日</td>" in response.text     # the first cell as written


def test_a_bad_byte_in_a_shift_jis_upload_is_named_on_the_screen(as_role, programme):
    data = csv_text(PEOPLE).encode("cp932").replace("山﨑".encode("cp932"), b"\x85\xff")
    response = upload(as_role("supervisor"), programme, data, status=400)
    assert "行目の" in response.text and "Shift_JIS（CP932） として読めません" in response.text
