"""``shinsei-intranet import`` on real-shaped files (issue 26), both engines: a CP932
export's 〓 keeps the stored characters and the dry run lists them with their values."""

from sqlalchemy import select

from intranet.applications.models import Application
from intranet.exports import csv_lines
from lab.import_files import HEADER, PEOPLE, encoded
from tests.factories import make_programme
from tests.integration.test_cli import cli  # noqa: F401  (the fixture)


def _names(session_factory):
    with session_factory() as s:
        return sorted(s.execute(select(Application.name)).scalars())


def test_a_cp932_export_re_imported_keeps_the_stored_names(cli, tmp_path,  # noqa: F811
                                                          session_factory):
    make_programme(session_factory, code="p2020")
    source = tmp_path / "applicants.csv"
    source.write_bytes(encoded())
    assert cli("import", str(source), "--programme", "p2020").returncode == 0
    with session_factory() as s, s.begin():
        s.execute(select(Application).where(
            Application.receipt_number_normalised == "12345680")).scalar_one().name = "𠮷田　次郎"
    before = _names(session_factory)
    # What the CP932 export writes for those rows: the header and PEOPLE, 𠮷 as 〓.
    rows = [PEOPLE[0], PEOPLE[1], [PEOPLE[2][0], "𠮷田　次郎", *PEOPLE[2][2:]]]
    exported = tmp_path / "export.csv"
    exported.write_bytes(b"".join(csv_lines(HEADER, rows, "cp932")))
    dry = cli("import", str(exported), "--programme", "p2020", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "changed 0, unchanged 3" in dry.stdout
    assert "notices: 1" in dry.stdout
    assert ("line 5, 氏名: stored '𠮷田\\u3000次郎', file '〓田\\u3000次郎': "
            "ファイルの「〓田\u3000次郎」の 〓 は") in dry.stdout
    assert cli("import", str(exported), "--programme", "p2020").returncode == 0
    assert _names(session_factory) == before
    rows[2][1] = "𠮷田　三郎"                    # edited: 〓 would replace 𠮷
    exported.write_bytes(b"".join(csv_lines(HEADER, rows, "cp932")))
    refused = cli("import", str(exported), "--programme", "p2020")
    assert refused.returncode == 1
    assert "line 5, 氏名: '〓田\\u3000三郎'" in refused.stdout
    assert "「𠮷田\u3000次郎」の「𠮷」を 〓 に置き換えます" in refused.stdout
    assert _names(session_factory) == before


def test_the_cli_says_which_line_it_took_as_the_header(cli, tmp_path,  # noqa: F811
                                                       session_factory):
    from lab.import_files import csv_text

    make_programme(session_factory, code="p2020")
    source = tmp_path / "applicants.csv"
    source.write_bytes(("令和2年度 特別定額給付金 申請者一覧（令和2年6月1日現在）\r\n\r\n"
                        + csv_text(PEOPLE)).encode("cp932"))
    dry = cli("import", str(source), "--programme", "p2020", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "new 3" in dry.stdout and "header: line 3 (lines 1 skipped)" in dry.stdout


def test_a_gaiji_is_refused_by_the_cli_naming_line_field_and_code_point(
        cli, tmp_path, session_factory):  # noqa: F811
    make_programme(session_factory, code="p2020")
    source = tmp_path / "applicants.csv"
    # Shift_JIS's user-defined area: F0 40 is U+E000 in CP932.
    source.write_bytes(encoded([PEOPLE[0]]).replace("髙橋".encode("cp932"), b"\xf0\x40\x8b\xb4"))
    refused = cli("import", str(source), "--programme", "p2020")
    assert refused.returncode == 1
    assert "line 2, 氏名:" in refused.stdout
    assert "外字が含まれています（U+E000、1 文字目）" in refused.stdout
    assert _names(session_factory) == []


def test_the_same_problem_is_one_line_and_every_one_goes_to_the_problems_file(
        cli, tmp_path, session_factory):  # noqa: F811
    import csv

    from tests.functional.test_import_problems import deficient_rows

    make_programme(session_factory, code="p2020")
    source = tmp_path / "applicants.csv"
    data, bad = deficient_rows(390)
    source.write_bytes(data)
    report = tmp_path / "problems.csv"
    for args in (("--dry-run",), ()):
        result = cli("import", str(source), "--programme", "p2020", "--problems", str(report),
                     *args)
        assert result.returncode == 1, result.stderr
        assert result.stdout.count("にするには不備の内容が必要です") == 1
        assert "390 rows (lines 8, 15, 22, 29, 36 …), 状況: e.g. '不備あり（書類返送）'" \
            in result.stdout
        assert "「不備内容」列を追加して、これらの行に書いてください。" in result.stdout
        assert f"problems written to {report}: 390 rows" in result.stdout
        raw = report.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")          # Excel opens it as UTF-8
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert rows[0] == ["種類", "行", "列", "値", "理由", "直し方"]
        assert len(rows) == 1 + bad and rows[1][:4] == ["取り込めない行", "8", "状況", "不備あり（書類返送）"]
        assert rows[-1][5] == "「不備内容」列を追加して、これらの行に書いてください。"
    assert _names(session_factory) == []
    unwritable = cli("import", str(source), "--programme", "p2020", "--problems",
                     str(tmp_path / "no" / "such" / "dir.csv"))
    assert unwritable.returncode == 2 and "Traceback" not in unwritable.stderr


def _imported(cli, tmp_path, session_factory, rows=None):  # noqa: F811
    make_programme(session_factory, code="p2020")
    source = tmp_path / "applicants.csv"
    source.write_bytes(encoded(rows) if rows else encoded())
    assert cli("import", str(source), "--programme", "p2020").returncode == 0


def test_the_cli_dry_run_shows_each_changed_field_and_writes_every_change(
        cli, tmp_path, session_factory):  # noqa: F811
    """The first 200 changed rows on the screen and in the CLI; all of them in --changes."""
    import csv

    people = [[f"{90000000 + n}", f"山田　{n}号", *PEOPLE[0][2:]] for n in range(250)]
    _imported(cli, tmp_path, session_factory, people)
    edited = [[r[0], r[1] + "改", *r[2:]] for r in people]
    edited[0][HEADER.index("住所")] = "'=HYPERLINK(1)"       # read as text; written safe
    source = tmp_path / "edited.csv"
    source.write_bytes(encoded(edited))
    listing = tmp_path / "changes.csv"
    dry = cli("import", str(source), "--programme", "p2020", "--dry-run", "--changes",
              str(listing))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "changed rows: 250 (200 shown; --changes FILE writes them all)" in dry.stdout
    assert "line 3, 90000001: 氏名 '山田\\u30001号' → '山田\\u30001号改'" in dry.stdout
    assert f"changes written to {listing}: 250 rows" in dry.stdout
    raw = listing.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0] == ["行", "受付番号", "項目", "登録済みの値", "ファイルの値"]
    assert len(lines) == 1 + 250 + 1                     # one per changed field
    assert ["2", "90000000", "住所", PEOPLE[0][HEADER.index("住所")], "'=HYPERLINK(1)"] in lines
    assert lines[-1] == ["251", "90000249", "氏名", "山田　249号", "山田　249号改"]
    assert sorted(_names(session_factory))[0] == "山田　0号"       # a dry run changes nothing


def test_a_change_that_puts_geta_or_drops_a_character_is_flagged_and_imported(
        cli, tmp_path, session_factory):  # noqa: F811
    """Not the CP932 export's own 〓 (a stored character it could not hold): a character
    CP932 holds turned into 〓 or ?, or dropped — imported as the file says, flagged."""
    import csv

    _imported(cli, tmp_path, session_factory)
    edited = [[PEOPLE[0][0], PEOPLE[0][1].replace("髙", "〓"), *PEOPLE[0][2:]],
              [PEOPLE[1][0], "?" + PEOPLE[1][1][1:], *PEOPLE[1][2:]],
              [PEOPLE[2][0], PEOPLE[2][1][1:], *PEOPLE[2][2:]]]
    source = tmp_path / "edited.csv"
    source.write_bytes(encoded(edited))
    report = tmp_path / "problems.csv"
    dry = cli("import", str(source), "--programme", "p2020", "--dry-run", "--problems",
              str(report))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "notices: 3" in dry.stdout and "changed 3" in dry.stdout
    assert f"「{PEOPLE[0][1]}」が「{edited[0][1]}」になり、「髙」が 〓 に変わります" in dry.stdout
    assert f"「{PEOPLE[1][1][0]}」が ? に変わります" in dry.stdout
    assert f"「{PEOPLE[2][1][0]}」がなくなります" in dry.stdout
    kinds = [row[0] for row in csv.reader(report.read_text("utf-8-sig").splitlines()[1:])]
    assert kinds == ["確かめてほしい変更"] * 3
    assert cli("import", str(source), "--programme", "p2020").returncode == 0
    assert _names(session_factory) == sorted(row[1] for row in edited)


def _with_gaiji_table(tmp_path, table_text):
    """The cli fixture's ini (tmp_path/cli.ini) naming a 外字 table with ``table_text``."""
    table = tmp_path / "gaiji.csv"
    table.write_text(table_text, encoding="utf-8")
    config = tmp_path / "cli.ini"
    config.write_text(config.read_text().replace(
        "[loggers]", f"imports.gaiji_table = {table}\n[loggers]"))


def test_a_gaiji_the_city_table_maps_is_said_as_replaced_not_kept(
        cli, tmp_path, session_factory):  # noqa: F811
    make_programme(session_factory, code="p2020")
    _with_gaiji_table(tmp_path, "U+E000,髙\n")
    source = tmp_path / "applicants.csv"
    source.write_bytes(encoded([PEOPLE[0]]).replace("髙橋".encode("cp932"), b"\xf0\x40\x8b\xb4"))
    dry = cli("import", str(source), "--programme", "p2020", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "line 2, 氏名: stored '', file '髙橋" in dry.stdout
    assert "外字 U+E000（1 文字目）は、市の外字表のとおり「髙」として取り込みます" in dry.stdout
    assert ": kept" not in dry.stdout and "〓" not in dry.stdout


def test_a_gaiji_table_that_cannot_be_used_is_one_sentence_not_a_traceback(
        cli, tmp_path, session_factory):  # noqa: F811
    for text, said in (("U+0041,A\n", "1 行目: U+0041 は外字"),
                       ("U+E000,髙\nU+E000,高\n", "2 行目: U+E000 は前の行にもあります")):
        _with_gaiji_table(tmp_path, text)
        refused = cli("import", str(tmp_path / "any.csv"), "--programme", "p2020", "--dry-run")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "Traceback" not in refused.stderr
        assert refused.stderr.startswith("error: ") and "imports.gaiji_table" in refused.stderr
        assert said in refused.stderr
        (tmp_path / "cli.ini").write_text((tmp_path / "cli.ini").read_text().replace(
            f"imports.gaiji_table = {tmp_path / 'gaiji.csv'}\n", ""))


def test_the_listings_never_overwrite_the_import_file_nor_each_other(
        cli, tmp_path, session_factory):  # noqa: F811
    _imported(cli, tmp_path, session_factory)
    source = tmp_path / "applicants.csv"
    kept = source.read_bytes()
    other = tmp_path / "same.csv"
    for args, said in ((("--changes", str(source)), "--changes"),
                       (("--problems", str(source)), "--problems"),
                       (("--problems", str(other), "--changes", str(other)), "--changes")):
        refused = cli("import", str(source), "--programme", "p2020", "--dry-run", *args)
        assert refused.returncode == 2 and refused.stderr.startswith(f"error: {said} ")
        assert "name another file" in refused.stderr
    assert source.read_bytes() == kept and not other.exists()


def test_a_control_character_from_the_file_reaches_the_terminal_escaped(
        cli, tmp_path, session_factory):  # noqa: F811
    _imported(cli, tmp_path, session_factory)
    edited = [[PEOPLE[0][0], PEOPLE[0][1][1:] + "\x1b[8m", *PEOPLE[0][2:]]]
    source = tmp_path / "edited.csv"
    source.write_bytes(encoded(edited, "utf-8"))
    dry = cli("import", str(source), "--programme", "p2020", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "\x1b" not in dry.stdout and "\\x1b[8m" in dry.stdout
