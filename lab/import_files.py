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
