"""Headers as municipal files write them: folded, every usual name, and no silent default."""

import pytest

from intranet.imports.columns import FIELDS, fold, load_mapping, map_header
from intranet.imports.errors import ImportRefused
from lab.import_files import HEADER

FULL = ["受付番号", "氏名", "申請日"]


@pytest.mark.parametrize(("field", "alias"), [(f, a) for f, names in FIELDS.items()
                                              for a in names])
def test_every_usual_name_of_every_field_is_recognised(field, alias):
    others = [h for h in FULL if fold(h) not in
              {fold(a) for a in FIELDS[field]}] if field in ("receipt_number", "name",
                                                              "received_on") else FULL
    header = [alias, *others] if field != "status" else [alias, "受付番号"]
    plan = map_header(header)
    assert plan.fields[0] == field


@pytest.mark.parametrize(("written", "field"), [
    ("氏　名", "name"), ("氏 名", "name"), ("氏名（漢字）", "name"), ("氏名(漢字)", "name"),
    ("申請者名", "name"), ("世帯主氏名", "name"), ("ｶﾅ氏名", "kana"), ("氏名（カナ）", "kana"),
    ("受付Ｎｏ", "receipt_number"), ("受付No.", "receipt_number"), ("受付ＮＯ．", "receipt_number"),
    ("【必須】受付番号", "receipt_number"), ("処理状況", "status"), ("ステータス", "status"),
    ("支払日", "paid_on"), ("支払予定日", "scheduled_payment_on"), ("不備理由", "deficiency_reason"),
    ("受付日", "received_on"), ("Receipt Number", "receipt_number"),
])
def test_headers_are_folded_for_width_spaces_and_qualifiers(written, field):
    others = {"name": ["受付番号", "申請日"], "received_on": ["受付番号", "氏名"],
              "receipt_number": ["氏名", "申請日"], "kana": FULL}.get(field, FULL)
    header = [written, *others] if field != "status" else [written, "受付番号"]
    assert map_header(header).fields[0] == field


def test_the_plan_says_what_each_column_fills_or_that_it_is_not_imported():
    plan = map_header([*HEADER, "世帯番号"])
    assert plan.kind == "full" and plan.fields[0] == "receipt_number"
    assert plan.unused == ["世帯番号"] and plan.pairs[-1] == ("世帯番号", None)
    assert map_header(["Receipt Number", "Status"]).kind == "status"


def test_a_status_column_headed_shori_joukyou_is_used_not_ignored():
    plan = map_header(["受付番号", "処理状況", "振込日"])
    assert plan.kind == "status" and plan.fields == ("receipt_number", "status", "paid_on")


def test_a_column_that_looks_like_a_field_but_is_not_one_is_refused_by_name():
    with pytest.raises(ImportRefused) as refused:
        map_header([*FULL, "前回の処理状況"])
    assert "「前回の処理状況」列は「状況」のように見えます" in str(refused.value)


def test_two_columns_for_one_field_are_refused_naming_both():
    with pytest.raises(ImportRefused) as refused:
        map_header([*FULL, "世帯主氏名"])
    assert "「氏名」と「世帯主氏名」の両方が「氏名」" in str(refused.value)


def test_a_full_list_missing_name_and_date_is_told_so_not_that_it_lacks_a_status():
    with pytest.raises(ImportRefused) as refused:
        map_header(["受付番号", "フリガナ", "住所", "処理状況"])
    message = str(refused.value)
    assert "「フリガナ」「住所」の列があるので申請者一覧" in message
    assert "氏名・申請日 の列がありません" in message and "状況" not in message.split("。")[0]


def test_a_file_with_neither_kind_names_what_is_missing():
    with pytest.raises(ImportRefused, match="必須の列がありません: 状況"):
        map_header(["受付番号", "備考"])


def test_my_number_column_is_refused_outright():
    with pytest.raises(ImportRefused, match="個人番号"):
        map_header([*HEADER, "個人番号"])
    with pytest.raises(ImportRefused, match="個人番号"):
        map_header([*HEADER, "マイナンバー（12桁）"])
    with pytest.raises(ImportRefused, match="個人番号"):
        map_header([*HEADER, "My Number"], load_mapping('{"My Number": null}'))


def test_a_layout_maps_other_names_and_marks_columns_not_imported():
    mapping = load_mapping('{"お客様番号": "受付番号", "結果": "処理状況", "世帯主氏名": null,'
                           ' "旧状況": "取り込まない"}')
    plan = map_header(["お客様番号", "結果", "世帯主氏名", "旧状況"], mapping)
    assert plan.fields == ("receipt_number", "status", None, None) and plan.kind == "status"


@pytest.mark.parametrize(("text", "message"), [
    ('{"x": "口座番号"}', "「x」の行き先「口座番号」は取り込める項目ではありません"),
    ('{"x": 3}', "「x」の行き先「3」"),
    ('{"x": "受付番号",', "JSON として読めません（1 行目付近）"),
    ('["受付番号"]', '1 行目「["受付番号"]」にコロン（:）がありません'),   # not JSON: the line form
    ("{}", "JSON オブジェクト"),
    # The line form: each mistake names its line and why.
    ("a: 受付番号\nb 状況", "対応表の 2 行目「b 状況」にコロン（:）がありません"),
    ("\n\n: 状況", "対応表の 3 行目は、コロンの前にファイルの列名がありません"),
    ("a: 受付番号\nb:\u3000", "対応表の 2 行目は、「b」の後に取り込む項目がありません"),
    ("a: 口座番号", "対応表の 1 行目の「口座番号」は、取り込める項目ではありません（「a」列の行き先）"),
    ("ａ: 受付番号\nb: 状況\nA : 取り込まない", "対応表の 3 行目の「A」は、1 行目と同じ列です"),
    (" \n\u3000\n", "対応表が空です"),
])
def test_a_bad_layout_is_one_plain_sentence(text, message):
    with pytest.raises(ImportRefused) as refused:
        load_mapping(text)
    assert message in str(refused.value)


def test_the_header_is_the_first_line_naming_the_most_columns():
    from intranet.imports.columns import header_index

    title = ["令和2年度 特別定額給付金 申請者一覧（令和2年6月1日現在）"]
    header = ["受付番号", "氏名", "申請日"]
    data = ["12345678", "received", "2020/6/1"]      # "received" is a column name too
    assert header_index([title, ["作成日", "令和2年6月1日"], header, data]) == (2, 3)
    assert header_index([title]) == (0, 0)
    assert header_index([title, ["お客様番号", "x"]], {"お客様番号": "receipt_number"}) == (1, 1)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_documented_columns_are_the_ones_read(language):
    """docs/import-columns.*.md lists every field and every header read as it."""
    from pathlib import Path

    from intranet.imports.columns import column_guide

    text = (Path(__file__).resolve().parents[4] / f"docs/import-columns.{language}.md").read_text()
    for column in column_guide():
        row = next(line for line in text.splitlines() if line.startswith(f"| {column['label']} |"))
        assert "、".join(column["variants"]) in row
