"""Import files shaped like those municipal systems and Excel produce, made by the tests
(so they are reproducible): every encoding, both kinds of file, and each bad input."""

HEADER = ["受付番号", "氏名", "フリガナ", "生年月日", "住所", "電話番号", "申請日", "申請方法", "状況",
          "振込予定日", "振込日", "不備内容", "備考"]

PEOPLE = [
    ["1234-5678", "髙橋　一郎", "タカハシ　イチロウ", "昭和55年1月2日", "中央区1丁目①番", "042-000-0001",
     "令和2年6月1日", "郵送", "受付済", "", "", "", "㈱相模商事 経由"],
    ["１２３４－５６７９", "山﨑　花子", "ヤマザキ　ハナコ", "1988/12/31", "緑区2-3-4", "042-000-0002",
     "R2.6.2", "オンライン", "審査中", "", "", "", "改行を含む\n備考"],
    ["12345680", "佐藤　次郎", "サトウ　ジロウ", "H1.1.8", "南区5", "042-000-0003",
     "20200603", "online", "received", "", "", "", ""],
]


def csv_text(rows, header=HEADER, delimiter=","):
    def cell(value):
        value = str(value)
        if any(c in value for c in (delimiter, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value
    return "".join(delimiter.join(cell(v) for v in row) + "\r\n" for row in [header, *rows])


def encoded(rows=PEOPLE, encoding="cp932", header=HEADER):
    if encoding == "utf-16":
        return csv_text(rows, header, "\t").encode("utf-16")   # Excel "Unicode text"
    if encoding == "utf-8-sig":
        return csv_text(rows, header).encode("utf-8-sig")
    return csv_text(rows, header).encode(encoding)


def status_file(rows, encoding="cp932"):
    """The bank's result: receipt number, status, payment date."""
    return csv_text(rows, ["受付番号", "状況", "振込日"]).encode(encoding)


def many_bad_rows(count=1200):
    """A full list whose every row has an impossible birth date: more errors than are kept."""
    rows = [[f"{90000000 + n}", "田中　太郎", "タナカ　タロウ", "令和2年2月30日", "", "",
             "令和2年6月1日", "郵送", "受付済", "", "", "", ""] for n in range(count)]
    return encoded(rows)


# A whole applicant list as a city's system exports one: each status with the dates and
# reason it needs, dates in every way they are written, receipt numbers in every width and
# spacing, names with the characters Shift_JIS holds only in CP932, text that looks like a
# formula, a line break inside a cell, and the blanks a real list has.
_STATUSES = (("受付済", {}), ("審査中", {}), ("不備あり", {"不備内容": "印鑑なし、本人確認書類なし"}),
             ("支給決定", {}), ("振込予定", {"振込予定日": "令和2年7月10日"}),
             ("振込済", {"振込予定日": "R2.7.10", "振込日": "2020/7/20"}),
             ("received", {}), ("paid", {"振込日": "20200721"}))
_RECEIVED = ("令和2年6月1日", "R2.6.2", "2020/6/3", "20200604", "2020-06-05", "Ｒ２．６．８",
             "令和２年６月９日")
_BORN = ("昭和55年1月2日", "1988/12/31", "H1.1.8", "S20.8.15", "平成元年1月8日", "", "19500101")
_NAMES = (("髙橋　一郎", "タカハシ　イチロウ"), ("山﨑　花子", "ヤマザキ　ハナコ"), ("佐藤　次郎", "ｻﾄｳ ｼﾞﾛｳ"),
          ("渡邊　恵美", "わたなべ　えみ"), ("Smith John", "スミス　ジョン"), ("鈴木　①", ""))
_NOTES = ("", "㈱相模商事 経由", "改行を含む\n備考", "'=1+1", "'+81 は国番号", "代理人（長男）",
          "〒252-0001 転居予定", "")


def _receipt(n: int) -> str:
    digits = f"{70000000 + n}"
    written = (f"{digits[:4]}-{digits[4:]}", f"{digits[:4]} {digits[4:]}", digits,
               f"{digits[:4]}-{digits[4:]}".translate(str.maketrans("0123456789-", "０１２３４５６７８９－")),
               f"ab-{digits}")
    return written[n % len(written)]


def realistic_rows(count: int = 240) -> list[list[str]]:
    """``count`` rows under HEADER, every kind above spread over the file."""
    rows = []
    for n in range(count):
        status, dates = _STATUSES[n % len(_STATUSES)]
        name, kana = _NAMES[n % len(_NAMES)]
        cells = {"受付番号": _receipt(n), "氏名": name, "フリガナ": kana,
                 "生年月日": _BORN[n % len(_BORN)], "住所": f"中央区{n % 9 + 1}丁目{n}番地",
                 "電話番号": ("042-000-0001", "090-1234-5678", "", "03(1111)2222")[n % 4],
                 "申請日": _RECEIVED[n % len(_RECEIVED)],
                 "申請方法": ("郵送", "オンライン", "online", "プッシュ型", "")[n % 5],
                 "状況": status, "備考": _NOTES[n % len(_NOTES)], **dates}
        rows.append([cells.get(title, "") for title in HEADER])
    return rows
