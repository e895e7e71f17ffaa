"""Import through the web: dry run, confirm, all or nothing; exports; each bad input."""

import json
import re

import pytest
from sqlalchemy import func, select

from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.imports.models import ImportRecord
from lab.import_files import HEADER, PEOPLE, csv_text, encoded, status_file
from tests.conftest import csrf_token, login
from tests.factories import make_applications, make_programme


@pytest.fixture
def programme(session_factory, app_settings, tmp_path):
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return make_programme(session_factory)


def upload(app, programme, data, name="applicants.csv", status="*"):
    page = app.get("/imports")
    return app.post("/imports", {"csrf_token": csrf_token(page), "programme": str(programme)},
                    upload_files=[("file", name, data)], status=status)


def confirm(app, dry_run, status="*"):
    form = dict(__import__("re").findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"',
                                         dry_run.text.split('id="dry-run"')[1]))
    form["confirm"] = "1"
    return app.post("/imports", form, status=status)


def state(dbsession):
    return (dbsession.execute(select(func.count()).select_from(Application)).scalar_one(),
            dbsession.execute(select(func.count()).select_from(StatusChange)).scalar_one(),
            dbsession.execute(select(func.count()).select_from(ImportRecord)).scalar_one())


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig", "utf-16"])
def test_dry_run_then_import_in_every_encoding(as_role, programme, dbsession, encoding):
    app = as_role("supervisor")
    dry = upload(app, programme, encoded(encoding=encoding), status=200)
    assert "<strong>3</strong> 件を新規登録" in dry.text
    assert state(dbsession) == (0, 0, 0)               # a dry run writes nothing
    assert confirm(app, dry).status_int == 303
    rows = {a.receipt_number_normalised: a for a in dbsession.execute(select(Application)).scalars()}
    assert set(rows) == {"12345678", "12345679", "12345680"}
    assert rows["12345678"].name == "髙橋　一郎" and "㈱" in rows["12345678"].notes
    assert rows["12345679"].receipt_number == "１２３４－５６７９"   # kept as printed
    assert rows["12345679"].status_code == "reviewing" and rows["12345680"].route == "online"
    assert str(rows["12345678"].birth_date) == "1980-01-02"
    record = dbsession.execute(select(ImportRecord)).scalar_one()
    assert (record.created, record.filename) == (3, "applicants.csv")
    assert dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "import.apply")).scalar_one()


def test_the_same_file_twice_changes_nothing_the_second_time(as_role, programme, dbsession):
    app = as_role("supervisor")
    confirm(app, upload(app, programme, encoded()))
    before = dbsession.execute(select(Application.id, Application.version)).all()
    second = upload(app, programme, encoded())
    assert "3 件は変更なし" in second.text
    confirm(app, second)
    dbsession.expire_all()
    assert dbsession.execute(select(Application.id, Application.version)).all() == before
    assert dbsession.execute(select(func.count()).select_from(StatusChange)).scalar_one() == 3


def test_bank_result_file_marks_a_batch_paid(as_role, programme, session_factory, dbsession):
    ids = make_applications(session_factory, programme, 3, status="payment_scheduled")
    with session_factory() as s, s.begin():
        for application_id in ids:
            s.get(Application, application_id).scheduled_payment_on = __import__(
                "datetime").date(2020, 7, 1)
    app = as_role("supervisor")
    rows = [["0000-0001", "振込済", "令和2年7月1日"], ["00000002", "paid", "2020/7/1"]]
    dry = upload(app, programme, status_file(rows), "bank-result.csv", status=200)
    assert "状況のみ" in dry.text and "振込予定 → 振込済" in dry.text
    confirm(app, dry)
    paid = dbsession.execute(select(Application.receipt_number_normalised).where(
        Application.status_code == "paid")).scalars().all()
    assert sorted(paid) == ["00000001", "00000002"]
    reason = dbsession.execute(select(StatusChange.reason).where(
        StatusChange.to_code == "paid")).scalars().first()
    assert reason == "取込: bank-result.csv"


BAD = {
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00binary", "バイナリ"),
    "zip not a workbook": (b"PK\x03\x04\x00\x00\x00binary", "Excel ファイル（.xlsx）として読めません"),
    "empty": (b"", "空です"),
    "header only": (csv_text([]).encode("cp932"), "見出しの行だけ"),
    "missing required column": ("受付番号,氏名\r\n1,a\r\n".encode(), "申請日 の列がありません"),
    "my number": (csv_text([[*PEOPLE[0], "123456789012"]], [*HEADER, "個人番号"]).encode("cp932"),
                  "個人番号"),
    "duplicate in file": (encoded([PEOPLE[0], PEOPLE[0]]), "行目にもあります"),
    "impossible date": (encoded([[*PEOPLE[0][:6], "令和2年2月30日", *PEOPLE[0][7:]]]),
                        "存在しない日付です"),
    "date outside its era": (encoded([[*PEOPLE[0][:6], "平成31年5月1日", *PEOPLE[0][7:]]]),
                             "その元号の期間にない日付です"),
    "implausible date": (encoded([[*PEOPLE[0][:6], "2500-01-01", *PEOPLE[0][7:]]]),
                         "ありえない日付です"),
    "not a date": (encoded([[*PEOPLE[0][:6], "きのう", *PEOPLE[0][7:]]]), "日付として読めません"),
    "unknown status": (encoded([[*PEOPLE[0][:8], "保留中", *PEOPLE[0][9:]]]),
                       "状況「保留中」は状況の定義にありません"),
    "too few fields": ((csv_text([PEOPLE[0]]) + "99999999,田中\r\n").encode("cp932"),
                       "列の数が見出しと合いません"),
    "formula cell": (encoded([[*PEOPLE[0][:1], '=HYPERLINK("http://x")', *PEOPLE[0][2:]]]),
                     "数式のように見える値"),
    "needs a date": (encoded([[*PEOPLE[0][:8], "振込予定", *PEOPLE[0][9:]]]),
                     "振込予定日が必要です"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_refused_precisely_and_change_nothing(as_role, programme, dbsession, case):
    data, message = BAD[case]
    app = as_role("supervisor")
    response = upload(app, programme, data, status=400)
    assert message in response.text, response.text[-2000:]
    assert "この内容で取り込む" not in response.text
    assert state(dbsession) == (0, 0, 0)


def test_errors_name_line_column_and_value(as_role, programme):
    app = as_role("supervisor")
    data, _ = BAD["impossible date"]
    response = upload(app, programme, data, status=400)
    assert "<td>2</td><td>申請日</td><td>令和2年2月30日</td>" in response.text


def test_a_number_of_another_programme_is_a_conflict(as_role, programme, session_factory, dbsession):
    other = make_programme(session_factory, code="other-2024")
    make_applications(session_factory, other, 1, start=12345678)
    response = upload(as_role("supervisor"), programme, encoded(), status=400)
    assert "別の事業（other-2024 の給付金）" in response.text
    assert dbsession.execute(select(func.count()).select_from(Application)).scalar_one() == 1


def test_disallowed_transition_refuses_the_whole_file(as_role, programme, session_factory, dbsession):
    make_applications(session_factory, programme, 1, start=12345678, status="paid")
    response = upload(as_role("supervisor"), programme, encoded(), status=400)
    assert "「振込済」から「受付済」へは変更できません" in response.text
    assert state(dbsession)[0] == 1


def test_oversized_upload_is_refused_from_its_length(as_role, programme, wsgi_app):
    wsgi_app.registry.settings["imports.max_bytes"] = 1000
    response = upload(as_role("supervisor"), programme, b"x" * 5000, status=413)
    assert "大きすぎます" in response.text


def test_export_is_excel_ready_and_round_trips(as_role, programme, dbsession):
    app = as_role("supervisor")
    confirm(app, upload(app, programme, encoded()))
    exported = app.get("/applications.csv")
    assert exported.body.startswith(b"\xef\xbb\xbf")
    text = exported.body.decode("utf-8-sig")
    assert "髙橋　一郎" in text and "改行を含む" in text
    sjis = app.get("/applications.csv", {"encoding": "cp932"})
    assert "髙橋".encode("cp932") in sjis.body
    again = upload(app, programme, exported.body, "export.csv", status=200)
    assert "3 件は変更なし" in again.text and "<strong>0</strong> 件を変更" in again.text
    history = app.get("/history.csv").body.decode("utf-8-sig")
    assert "取込: applicants.csv" in history


def test_export_neutralises_formulas(as_role, programme, session_factory):
    make_applications(session_factory, programme, 1)
    with session_factory() as s, s.begin():
        s.execute(__import__("sqlalchemy").update(Application).values(notes="=HYPERLINK(1)"))
    text = as_role("staff").get("/applications.csv").body.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_security_officer_cannot_import(as_role, programme):
    as_role("security_officer").get("/imports", status=403)


def test_an_error_after_the_first_chunk_still_leaves_everything_as_it_was(
        as_role, programme, dbsession):
    rows = [[f"{n:08d}", f"申請者{n}", "", "", "", "", "2020/6/1", "郵送", "受付済", "", "", "", ""]
            for n in range(1, 2501)]
    rows[2200][6] = "2020/2/30"
    app = as_role("supervisor")
    page = app.get("/imports")
    response = app.post("/imports", {"csrf_token": csrf_token(page), "programme": str(programme),
                                     "sha256": "", "confirm": "1"},
                        upload_files=[("file", "big.csv", csv_text(rows).encode("cp932"))],
                        status=400)
    assert "エラーのあるファイルは取り込めません" in response.text
    assert state(dbsession) == (0, 0, 0)


def _moves_two(session_factory, programme):
    ids = make_applications(session_factory, programme, 2, status="received")
    with session_factory() as s:
        return ids, [s.get(Application, i).receipt_number_normalised for i in ids]


def test_a_status_only_import_is_a_bulk_change_for_staff(as_role, programme, session_factory,
                                                         dbsession):
    ids, receipts = _moves_two(session_factory, programme)
    app = as_role("staff")
    dry = upload(app, programme, status_file([[receipts[0], "審査中", ""],
                                              [receipts[1], "審査中", ""]]), "moves.csv",
                 status=200)
    assert "一括変更にあたる" in dry.text and "この内容で取り込む" not in dry.text
    # Posting the confirm by hand does not get round it.
    refused = confirm(app, dry, status=403)
    assert "一括変更にあたる" in refused.text
    dbsession.expire_all()
    assert {dbsession.get(Application, i).status_code for i in ids} == {"received"}
    assert not dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "import.apply")).first()


def test_a_status_import_audit_names_every_receipt_number_it_moved_beside_the_chain(
        as_role, programme, session_factory, dbsession):
    _ids, receipts = _moves_two(session_factory, programme)
    app = as_role("supervisor")
    confirm(app, upload(app, programme, status_file([[receipts[0], "審査中", ""],
                                                     [receipts[1], "審査中", ""]]), "moves.csv",
                        status=200), status=303)
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "import.apply")).scalar_one()
    details = json.loads(record.details)
    assert details["status_moves"] == 2 and details["moves"] == {"received→reviewing": 2}
    # The chain counts the moves; which receipts moved, and the file's name, sit beside it
    # (issue 25): linked to each application, and to the programme.
    assert "moved" not in details and "filename" not in details and details["personal"]
    for receipt in receipts:
        assert receipt not in record.details
    side = dbsession.execute(select(AuditPersonal).where(AuditPersonal.seq == record.seq)
                             .order_by(AuditPersonal.id)).scalars().all()
    assert sorted(json.loads(r.value)["receipt"] for r in side if r.application_id) \
        == sorted(receipts)
    assert [json.loads(r.value) for r in side if r.programme_id] == [{"filename": "moves.csv"}]
    page = as_role("security_officer").get(f"/audit/{record.seq}")
    assert all(receipt in page.text for receipt in receipts) and "受付済 → 審査中" in page.text


def test_dry_run_of_a_row_changing_details_but_not_the_status(as_role, programme, dbsession):
    app = as_role("supervisor")
    confirm(app, upload(app, programme, encoded()), status=303)
    changed = [[*PEOPLE[0][:5], "090-9999-0000", *PEOPLE[0][6:]]]
    dry = upload(app, programme, encoded(changed), status=200)      # was a 500
    assert "<strong>1</strong> 件を変更" in dry.text and "<td>電話番号</td>" in dry.text


def test_uploads_are_private_bound_to_their_user_and_removed(programme, as_role, app_settings,
                                                             testapp, dbsession):
    import os
    import stat
    from pathlib import Path

    import webtest

    spool = Path(app_settings["imports.spool_dir"])
    app = as_role("supervisor")
    dry = upload(app, programme, encoded(), "applicants.csv", status=200)
    kept = [p for p in spool.iterdir() if p.suffix != ".json"]
    assert len(kept) == 1 and stat.S_IMODE(os.stat(kept[0]).st_mode) == 0o600
    digest = re.search(r'name="sha256" value="([0-9a-f]+)"', dry.text).group(1)
    # Another member of staff confirms the first one's upload: not found, nothing written.
    other = webtest.TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "192.0.2.40"})
    login(other, "staff")
    page = other.get("/imports")
    stolen = other.post("/imports", {"csrf_token": csrf_token(page), "programme": str(programme),
                                     "sha256": digest, "confirm": "1"}, status=400)
    assert "別の利用者のファイル" in stolen.text
    # A made-up file name is ignored: the record keeps the real one.
    form = {"csrf_token": csrf_token(app.get("/imports")), "programme": str(programme),
            "sha256": digest, "filename": "<made-up>.csv", "confirm": "1"}
    app.post("/imports", form, status=303)
    assert dbsession.execute(select(ImportRecord.filename)).scalar_one() == "applicants.csv"
    assert list(spool.iterdir()) == []                    # removed after the confirm
    # Cancel removes it too.
    dry = upload(app, programme, encoded(), "again.csv", status=200)
    digest = re.search(r'name="sha256" value="([0-9a-f]+)"', dry.text).group(1)
    app.post("/imports", {"csrf_token": csrf_token(dry), "sha256": digest, "cancel": "1"},
             status=303)
    assert list(spool.iterdir()) == []


def test_a_file_refused_whole_is_not_kept_in_the_spool(programme, as_role, app_settings):
    """The attack: a refused upload (not a table at all) was still spooled, an applicant
    list lying on disk for hours with nothing to confirm."""
    from pathlib import Path

    spool = Path(app_settings["imports.spool_dir"])
    refused = upload(as_role("supervisor"), programme, b"\x00\x01 not a table", "broken.csv",
                     status=400)
    assert "Traceback" not in refused.text
    assert list(spool.iterdir()) == []


def test_uploads_left_behind_expire(tmp_path):
    import os
    import time

    from intranet.imports.spool import Spool

    spool = Spool(tmp_path, max_age=3600)
    spool.keep(1, "a" * 64, "old.csv", b"x")
    for path in tmp_path.iterdir():
        os.utime(path, (time.time() - 3601, time.time() - 3601))
    assert spool.take(1, "a" * 64) is None and list(tmp_path.iterdir()) == []
