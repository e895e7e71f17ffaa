"""After a programme is disposed of, the audit trail holds nothing of its applicants —
in the chain's table, on the audit screen, in /audit.csv — and still verifies (issue 25
item 2). Attacked as the independent attacker did: a status import that moves some
applicants, the call centre opening them, exports filtered by a birth date, a name and a
receipt number, status changes with a free-text reason; then disposal.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select, text

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.audit.services import verify
from lab.import_files import PEOPLE, encoded, status_file
from lab.intranet_ini import INI
from tests.factories import make_applications, make_programme
from tests.functional.test_applications import change
from tests.functional.test_disposal import (
    CALL_NOTE,
    archived,
    as_user,
    decide,
    latest_disposal,
    people_needles,
    request_disposal,
)
from tests.functional.test_imports import confirm as import_confirm
from tests.functional.test_imports import upload
from tests.privacy import found_in

ROOT = Path(__file__).resolve().parents[2]
OVERRIDE = "議会の決定により保存期間を短縮したため（第12号）"
# The file's name names a person, as a clerk's file names do.
FILE_NAME = "髙橋　一郎様ほか.csv"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def every_spelling():
    """Each applicant's data in every way the attacker looked for it: receipt number with
    and without its hyphen and in full-width digits, name, kana, address, phone (with and
    without hyphens), birth date in ISO, 和暦, slashes and digits alone (tests.privacy
    adds the encodings), the free-text reason."""
    needles = people_needles()
    for receipt, name, kana, *_ in PEOPLE:
        needles += [name.split("　")[0], kana.split("　")[0]]          # a surname alone
        digits = re.sub(r"\D", "", receipt.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        hyphenated = f"{digits[:4]}-{digits[4:]}"
        needles += [digits.translate(FULL_WIDTH), hyphenated.translate(FULL_WIDTH)]
    # As the file wrote them (和暦, abbreviated era) besides tests.privacy's ISO and slashes.
    needles += ["昭和55年1月2日", "S55.1.2", "1988/12/31", "昭和63年12月31日", "H1.1.8",
                "平成元年1月8日", "平成1年1月8日"]
    return needles


def test_no_applicant_value_is_left_in_the_audit_after_disposal(
        testapp, session_factory, dbsession, db_url, tmp_path):
    programme = make_programme(session_factory)
    other = make_programme(session_factory, code="kosodate-2021")
    [kept] = make_applications(session_factory, other, 1, start=55550001)
    app = as_user(testapp, "supervisor")
    assert import_confirm(app, upload(app, programme, encoded(), name=FILE_NAME)).status_int == 303
    ids = dict(dbsession.execute(select(Application.receipt_number_normalised, Application.id)
                                 .where(Application.programme_id == programme)).all())
    # A status import moving some of them (the import record's list of moved applications).
    moving = status_file([["1234-5678", "審査中", ""], ["12345680", "審査中", ""]])
    assert import_confirm(app, upload(app, programme, moving, name=FILE_NAME)).status_int == 303
    # A single change with a reason naming the caller.
    assert change(app, ids["12345679"], status="inquiring", reason=CALL_NOTE).status_int == 303
    # The call centre opens each of them.
    desk = as_user(testapp, "inquiry")
    for application_id in ids.values():
        assert desk.get(f"/applications/{application_id}").status_int == 200
    # Exports filtered by a birth date, a name, a receipt number (and a value of no filter's
    # shape where a status goes), as the list and the history, CSV and Excel.
    staff = as_user(testapp, "supervisor")
    for path, params in [
            ("/applications.csv", {"birth": "1980-01-02"}),
            ("/history.xlsx", {"birth": "1988-12-31", "sort": "receipt"}),
            ("/applications.csv", {"name": "髙橋　一郎"}),
            ("/applications.csv", {"receipt": "１２３４－５６７９", "status": "0420000003"}),
            ("/applications.xlsx", {"name": "ヤマザキ", "programme": str(programme)}),
            ("/applications.csv", {"name": "山田"})]:          # the other programme's
        assert staff.get(path, params).status_int == 200
    needles = every_spelling()
    officer = as_user(testapp, "security_officer")
    before = officer.get("/audit.csv").body
    # The scan sees what it seeks while the values exist: the screens show them.
    assert len(found_in(before, needles)) >= 12, found_in(before, needles)
    assert "1980年1月2日" in officer.get("/audit").text

    archived(as_user(testapp, "supervisor"), programme)
    assert request_disposal(testapp, programme, override=True, reason=OVERRIDE).status_int == 303
    disposal = latest_disposal(dbsession)
    assert decide(as_user(testapp, "security_officer"), disposal.id).status_int == 303

    # 1. The chain's table, every column of every record, as the database returns it.
    with dbsession.get_bind().connect() as connection:
        raw = "\n".join(repr(tuple(row)) for row in connection.execute(
            text("SELECT * FROM audit_records ORDER BY seq")))
    assert found_in(raw.encode("utf-8"), needles) == []
    assert found_in(json.dumps(raw, ensure_ascii=True).encode(), needles) == []
    # Nor beside it: what remains there is the other programme's.
    left = dbsession.execute(select(AuditPersonal)).scalars().all()
    assert left and all(row.programme_id == other or row.application_id == kept for row in left)
    assert found_in("".join(row.value for row in left).encode("utf-8"), needles) == []

    # 2. The audit screen: every page of the list, every record's own page.
    officer = as_user(testapp, "security_officer")
    url, pages = "/audit", []
    while url:
        page = officer.get(url)
        pages.append(page.body)
        found = re.search(r'href="([^"]*before=\d+[^"]*)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
    seqs = dbsession.execute(select(AuditRecord.seq).order_by(AuditRecord.seq)).scalars().all()
    pages += [officer.get(f"/audit/{seq}").body for seq in seqs]
    for number, body in enumerate(pages):
        assert found_in(body, needles) == [], f"page {number}"
    listing = pages[0].decode("utf-8")
    assert "（廃棄済み）" in listing
    # The other programme's export is still shown, its value kept until its own disposal.
    assert "名前: 山田" in listing

    # 3. /audit.csv: the raw record column and the one in words.
    after = officer.get("/audit.csv").body
    assert found_in(after, needles) == []
    assert "（廃棄済み）" in after.decode("utf-8-sig")

    # 4. The chain verifies: in the process and as the operator's `audit verify` runs it.
    dbsession.expire_all()
    assert verify(dbsession).ok
    config = tmp_path / "cli.ini"
    config.write_text(INI.format(url=db_url.replace("%", "%%")))
    checked = subprocess.run([sys.executable, "-m", "intranet.cli", "-c", str(config), "audit",
                              "verify"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0 and "audit chain OK" in checked.stdout, checked.stderr


def test_an_export_keeps_its_typed_value_only_under_programmes_of_applicants_it_names(
        testapp, session_factory, dbsession):
    first = make_programme(session_factory)
    second = make_programme(session_factory, code="kosodate-2021")
    make_applications(session_factory, first, 1, start=11110001)       # born 1980-01-01
    make_applications(session_factory, second, 1, start=22220001)
    staff = as_user(testapp, "supervisor")
    for params in ({"birth": "1980-01-01", "programme": str(second)},  # found: the second's
                   {"receipt": "1111-0001", "status": "paid"},         # nobody; alone: first
                   {"birth": "1980-01-01", "status": "paid"},          # nobody; alone: both
                   {"birth": "1970-03-04"}):                           # names nobody held
        assert staff.get("/applications.csv", params).status_int == 200
    exports = dbsession.execute(select(AuditRecord).where(AuditRecord.action == "export")
                                .order_by(AuditRecord.seq)).scalars().all()
    kept = []
    for record in exports:
        assert "1980" not in record.details and "1111" not in record.details
        rows = dbsession.execute(select(AuditPersonal).where(AuditPersonal.seq == record.seq)
                                 .order_by(AuditPersonal.id)).scalars().all()
        kept.append([(r.programme_id, json.loads(r.value)["filter"]) for r in rows])
    assert kept == [
        [(second, {"birth": "1980-01-01"})],
        [(first, {"receipt": "1111-0001"})],
        [(first, {"birth": "1980-01-01"}), (second, {"birth": "1980-01-01"})],
        []]
    # The last says a birth date was given, and keeps no value: it named nobody held.
    assert json.loads(exports[-1].details)["typed"] == ["birth"]
    assert "personal" not in json.loads(exports[-1].details)
