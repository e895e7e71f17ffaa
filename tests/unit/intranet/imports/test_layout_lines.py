"""A layout typed one 「列名: 項目」 a line reads as its JSON does; each mistake names its line."""

import json

from intranet.imports.columns import header_index, layout_json, layout_lines, load_mapping

JSON = '{"お客様番号": "受付番号", "結果": "処理状況", "世帯主氏名": null, "旧状況": "取り込まない"}'


def test_the_line_form_reads_as_the_json_form():
    lines = ("お客様番号: 受付番号\n\n\u3000結果：処理状況\u3000\n 世帯主氏名 ： 取り込まない\n"
             "旧状況:取り込まない")
    assert load_mapping(lines) == load_mapping(JSON)
    assert load_mapping("\ufeffお客様番号: receipt_number\r\n") == {"お客様番号": "receipt_number"}


def test_a_column_name_may_hold_a_colon_the_last_one_divides():
    assert load_mapping("時刻: 開始: 取り込まない\n番号: 受付番号") == {"時刻:開始": None,
                                                                "番号": "receipt_number"}


def test_saved_as_json_and_shown_again_in_lines():
    saved = layout_json("お客様番号：受付番号\n結果: 処理状況")
    assert json.loads(saved) == {"お客様番号": "受付番号", "結果": "処理状況"}
    assert layout_lines(saved) == "お客様番号: 受付番号\n結果: 処理状況"
    assert layout_lines(layout_json(JSON)) == (
        "お客様番号: 受付番号\n結果: 処理状況\n世帯主氏名: 取り込まない\n旧状況: 取り込まない")
    assert load_mapping(layout_lines(JSON)) == load_mapping(JSON)


def test_a_row_of_values_is_never_the_header_even_holding_a_column_name():
    rows = [["12345680", "佐藤　次郎", "2020/6/3", "online", "received"],
            ["１２３４－５６７９", "山﨑　花子", "R2.6.2", "オンライン", "審査中"]]
    assert header_index(rows) == (0, 0)
    assert header_index([*rows, ["受付番号", "氏名", "申請日"]]) == (2, 3)


def test_a_line_whose_column_begins_with_a_brace_is_a_line_not_json():
    from intranet.imports.columns import load_mapping

    assert load_mapping("{旧}番号: 受付番号\n結果: 状況") == {"{旧}番号": "receipt_number",
                                                        "結果": "status"}
