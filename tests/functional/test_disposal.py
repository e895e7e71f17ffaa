"""Programme lifecycle and four-eyes disposal through the screens: each promise, attacked.

Applicants come in through the import screen (so the spool, the import record and the
history are real), get status changes with free-text reasons (single and bulk), and the
programme is then closed, archived and disposed of.
"""

import csv as csvlib
import io
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import transaction
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.audit.services import verify
from intranet.audit.writer import utcnow
from intranet.auth.models import SUPERVISOR, User
from intranet.db import get_tm_session
from intranet.disposal.models import Disposal
from intranet.programmes.lifecycle import japan_date
from intranet.programmes.models import Programme
from intranet.publications.build import build_snapshot
from intranet.publications.models import PUBLISHED, Publication
from intranet.web import format_date
from lab.databases import postgres_bindir
from lab.import_files import PEOPLE, encoded
from lab.mirror_fixtures import ORIGIN
from tests.conftest import csrf_token, login, main_form
from tests.factories import make_applications, make_programme
from tests.functional.test_applications import change
from tests.functional.test_bulk import confirm as bulk_confirm
from tests.functional.test_bulk import preview as bulk_preview
from tests.functional.test_imports import confirm as import_confirm
from tests.functional.test_imports import upload
from tests.functional.test_publications import request_one as request_publication
from tests.privacy import birth_date_forms, found_in
from tests.visible_text import visible_text
from transfer.receipt import normalise_receipt_number
from transfer.verify import Origin

CALL_NOTE = "髙橋様ご本人から電話、口座を確認"   # a free-text reason that names a person
OVERRIDE = "議会の決定により保存期間を短縮したため（第12号）"


@pytest.fixture
def spool(app_settings, tmp_path):
    # Request it before the app: the app reads its settings once.
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    return tmp_path / "spool"


@pytest.fixture
def second_supervisor(session_factory, password_hash, accounts):
    with transaction.manager:
        get_tm_session(session_factory, transaction.manager).add(User(
            username="supervisor2", display_name="second supervisor", role=SUPERVISOR,
            password_hash=password_hash, created_at=utcnow()))
    return "supervisor2"


def as_user(testapp, username):
    testapp.reset()
    login(testapp, username)
    return testapp


def step(app, programme_id, name, status="*"):
    """The step as confirmed (the confirmation page itself: test_confirmations)."""
    page = app.get(f"/programmes/{programme_id}")
    return app.post(f"/programmes/{programme_id}/step",
                    {"csrf_token": csrf_token(page), "step": name, "confirmed": "yes"},
                    status=status)


def request_disposal(app, programme_id, override=False, reason="", status="*"):
    page = app.get(f"/programmes/{programme_id}")
    form = {"csrf_token": csrf_token(page), "reason": reason}
    if override:
        form["override"] = "on"
    return app.post(f"/programmes/{programme_id}/disposal", form, status=status)


def decide(app, disposal_id, decision="approve", status="*"):
    page = app.get(f"/disposals/{disposal_id}")
    return app.post(f"/disposals/{disposal_id}/decision",
                    {"csrf_token": csrf_token(page), "decision": decision, "note": "",
                     "confirmed": "yes"}, status=status)


def archived(app, programme_id):
    assert step(app, programme_id, "close_lookup").status_int == 303
    assert step(app, programme_id, "archive").status_int == 303


def latest_disposal(dbsession):
    dbsession.expire_all()
    return dbsession.execute(select(Disposal).order_by(Disposal.id.desc())).scalars().first()


def test_each_step_is_dated_audited_and_shown_with_the_retention(as_role, session_factory,
                                                                 dbsession):
    programme = make_programme(session_factory)
    app = as_role("supervisor")
    page = app.get(f"/programmes/{programme}")
    assert "照会受付中" in page.text and 'value="5"' in page.text     # default: five years
    # Out of order: archiving an open programme is refused, nothing written.
    refused = step(app, programme, "archive", status=409)
    assert "照会受付中のため、この操作はできません" in refused.text
    assert step(app, programme, "close_lookup").status_int == 303
    assert step(app, programme, "close_lookup", status=409).status_int == 409  # once only
    row = dbsession.get(Programme, programme)
    closed = row.lookup_closed_at
    assert closed is not None and row.archived_at is None
    assert step(app, programme, "archive").status_int == 303
    page = app.get(f"/programmes/{programme}")
    assert "保存中（読み取り専用）" in page.text
    closed_on = japan_date(closed)   # the Japan date: 03:00 JST is still yesterday in UTC
    ends = closed_on.replace(year=closed_on.year + 5)
    assert format_date(closed_on) in page.text and format_date(ends) in page.text
    listed = app.get("/programmes").text            # the 事業 list shows the stage and the end
    assert "保存中（読み取り専用）" in listed and f"{format_date(ends)}（5年）" in listed
    actions = dbsession.execute(select(AuditRecord.action).where(
        AuditRecord.target == f"programme:{programme}").order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["programme.lookup_close", "programme.archive"]
    # An unknown step is bad input, not a guess.
    assert step(app, programme, "dispose", status=400).status_int == 400


def test_retention_is_a_setting_per_programme(as_role, session_factory, dbsession):
    programme = make_programme(session_factory)
    app = as_role("supervisor")
    form = main_form(app.get(f"/programmes/{programme}"))
    form["retention_years"] = "10"
    assert form.submit().status_int == 303
    assert dbsession.get(Programme, programme).retention_years == 10
    form = main_form(app.get(f"/programmes/{programme}"))
    form["retention_years"] = "０"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "保存期間は1〜30年" in response.text


def test_an_archived_programme_is_read_only_for_staff(spool, as_role, session_factory,
                                                      dbsession):
    programme = make_programme(session_factory)
    [one, *_] = make_applications(session_factory, programme, 3)
    archived(as_role("supervisor"), programme)
    single = change(as_role("staff"), one, status="reviewing", reason="x")
    assert single.status_int == 409 and "変更できません" in single.text
    bulk = bulk_preview(as_role("supervisor"), programme, "00000001\n00000002")
    assert bulk.status_int in (400, 409) and "変更できません" in bulk.text
    imported = upload(as_role("supervisor"), programme, encoded())
    assert imported.status_int == 400 and "変更できません" in imported.text
    assert dbsession.execute(select(func.count()).select_from(StatusChange).where(
        StatusChange.source != "create")).scalar_one() == 0


def test_disposal_needs_a_second_person(testapp, session_factory, dbsession, second_supervisor):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 2)
    app = as_user(testapp, "supervisor")
    archived(app, programme)
    assert request_disposal(app, programme, override=True, reason=OVERRIDE).status_int == 303
    disposal = latest_disposal(dbsession)
    # The requester cannot approve their own request, by the screen or by a forged POST.
    assert "承認して廃棄する" not in app.get(f"/disposals/{disposal.id}").text
    own = decide(app, disposal.id, status=409)
    assert "自分が申請した廃棄は承認できません" in own.text
    # Staff and administrators have no say at all.
    for role in ("staff", "admin"):
        assert decide_as(testapp, role, disposal.id) == 403
    assert latest_disposal(dbsession).state == "requested"
    assert dbsession.execute(select(Application.name)).scalars().first().startswith("山田")
    # A second supervisor may approve.
    assert decide(as_user(testapp, second_supervisor), disposal.id).status_int == 303
    assert latest_disposal(dbsession).state == "approved"


def decide_as(testapp, role, disposal_id):
    app = as_user(testapp, role)
    page = app.get("/programmes" if role == "staff" else "/users")
    return app.post(f"/disposals/{disposal_id}/decision",
                    {"csrf_token": csrf_token(page), "decision": "approve", "confirmed": "yes"},
                    status="*").status_int


def requested(testapp, session_factory, dbsession, applications=1):
    """A programme with applications, archived, and disposal requested by ``supervisor``."""
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, applications)
    archived(as_user(testapp, "supervisor"), programme)
    assert request_disposal(testapp, programme, override=True, reason=OVERRIDE).status_int == 303
    return programme, latest_disposal(dbsession)


def test_a_security_officer_may_be_the_second_person(testapp, session_factory, dbsession):
    _programme, disposal = requested(testapp, session_factory, dbsession, 2)
    officer = as_user(testapp, "security_officer")
    assert "承認して廃棄する" in officer.get(f"/disposals/{disposal.id}").text
    assert decide(officer, disposal.id).status_int == 303
    assert latest_disposal(dbsession).state == "approved"


def test_before_the_retention_an_override_and_a_reason_are_needed(testapp, session_factory,
                                                                  dbsession):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 1)
    app = as_user(testapp, "supervisor")
    archived(app, programme)
    plain = request_disposal(app, programme, status=409)
    assert "保存期間は" in plain.text and "までです" in plain.text
    no_reason = request_disposal(app, programme, override=True, reason="早く", status=409)
    assert "理由を" in no_reason.text and "記入してください" in no_reason.text
    # The attack: eleven dots (or dashes, spaces, one letter repeated) passed as a reason.
    for empty in ("...........", "・・・・・・・・・・・", "－－－－－ －－－－－－",
                  "あああああああああああ"):
        refused = request_disposal(app, programme, override=True, reason=empty, status=409)
        assert "記号・空白を除いて10文字以上" in refused.text, empty
    assert latest_disposal(dbsession) is None
    assert request_disposal(app, programme, override=True, reason=OVERRIDE).status_int == 303
    disposal = latest_disposal(dbsession)
    assert disposal.override and disposal.reason == OVERRIDE


def test_after_the_retention_no_override_is_needed_and_lengthening_it_stops_approval(
        testapp, session_factory, dbsession, second_supervisor):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 1)
    app = as_user(testapp, "supervisor")
    archived(app, programme)
    with transaction.manager:   # the close was six years ago
        row = get_tm_session(session_factory, transaction.manager).get(Programme, programme)
        row.lookup_closed_at -= timedelta(days=6 * 366)
    assert request_disposal(app, programme).status_int == 303
    disposal = latest_disposal(dbsession)
    assert not disposal.override
    # Someone lengthens the retention after the request: the approval re-checks it.
    with transaction.manager:
        get_tm_session(session_factory, transaction.manager).get(
            Programme, programme).retention_years = 10
    refused = decide(as_user(testapp, second_supervisor), disposal.id, status=409)
    assert "保存期間は" in refused.text
    assert latest_disposal(dbsession).state == "requested"


def test_a_rejected_request_erases_nothing(testapp, session_factory, dbsession):
    programme, disposal = requested(testapp, session_factory, dbsession)
    assert decide(as_user(testapp, "security_officer"), disposal.id, "reject").status_int == 303
    assert latest_disposal(dbsession).state == "rejected"
    assert dbsession.execute(select(Application.name)).scalar_one().startswith("山田")
    assert dbsession.get(Programme, programme).disposed_at is None


def people_needles():
    """Every personal value of lab.import_files.PEOPLE, as the snapshot scan spells them."""
    births = {"昭和55年1月2日": "1980-01-02", "1988/12/31": "1988-12-31", "H1.1.8": "1989-01-08"}
    needles = [CALL_NOTE]
    for receipt, name, kana, birth, address, phone, *_rest, notes in PEOPLE:
        number = normalise_receipt_number(receipt)
        needles += [receipt, number, number[:4] + "-" + number[4:], name, kana, address, phone,
                    *birth_date_forms(date.fromisoformat(births[birth]))]
        # Each line of the notes ("備考" alone is also a column header, so too short to tell).
        needles += [line for line in notes.split("\n") if len(line) >= 5]
    return needles


def populate_and_dispose(testapp, session_factory, spool, second_supervisor,
                         before_approval=lambda: None):
    """Import PEOPLE, change statuses with free text (single and bulk), leave a dry run in
    the spool, close, archive and dispose (override). Returns the programme id."""
    programme = make_programme(session_factory)
    app = as_user(testapp, "supervisor")
    assert import_confirm(app, upload(app, programme, encoded())).status_int == 303
    upload(app, programme, encoded(encoding="utf-16"), name="再送分.txt")   # never confirmed
    first = select(Application.id).order_by(Application.id).limit(1)
    with transaction.manager:
        one = get_tm_session(session_factory, transaction.manager).execute(first).scalar_one()
    assert change(app, one, status="reviewing", reason=CALL_NOTE).status_int == 303
    assert bulk_confirm(app, bulk_preview(app, programme, "12345679\n12345680", status="reviewing",
                                          reason=CALL_NOTE)).status_int == 303
    assert any(spool.iterdir())
    # An export filtered by a name and a receipt number is audited without them.
    assert app.get("/applications.csv", {"name": "髙橋", "receipt": "1234-5678"}).status_int == 200
    # A publication request freezes the applicants' receipt numbers while the lookup is open.
    assert request_publication(app).status_int == 303
    assert step(app, programme, "close_lookup").status_int == 303
    # One requested after the close freezes none of them, and says the lookup has ended.
    assert request_publication(app).status_int == 303
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        first, second = dbsession.execute(
            select(Publication).order_by(Publication.id)).scalars().all()
        assert first.content_rows == 3 and second.content_rows == 0
        assert '"lookup_ended":true' in second.frozen_header
    assert step(app, programme, "archive").status_int == 303
    assert request_disposal(app, programme, override=True, reason=OVERRIDE).status_int == 303
    with transaction.manager:
        disposal = get_tm_session(session_factory, transaction.manager).execute(
            select(Disposal.id)).scalar_one()
    before_approval()
    assert decide(as_user(testapp, second_supervisor), disposal).status_int == 303
    return programme, disposal


def test_disposal_erases_every_personal_field_and_keeps_the_counts(
        spool, testapp, session_factory, second_supervisor, dbsession):
    programme, disposal_id = populate_and_dispose(testapp, session_factory, spool,
                                                  second_supervisor)
    rows = dbsession.execute(select(Application)).scalars().all()
    assert len(rows) == 3
    for row in rows:
        assert (row.receipt_number, row.name, row.kana, row.address, row.phone, row.notes,
                row.deficiency_reason, row.birth_date) == ("", "", "", "", "", "", "", None)
        assert row.receipt_number_normalised == f"-{row.id}"
    assert dbsession.execute(select(func.count()).select_from(StatusChange).where(
        StatusChange.reason != "")).scalar_one() == 0
    assert dbsession.execute(select(func.count()).select_from(AuditPersonal)).scalar_one() == 0
    assert list(spool.iterdir()) == []
    # Counts remain: per status on the record, and on the dashboard.
    disposal = dbsession.get(Disposal, disposal_id)
    # The abandoned dry run: the file and its note.
    assert disposal.applications == 3 and disposal.spool_files == 2
    assert '"reviewing":3' in disposal.statistics
    assert disposal.backups_age_out_on == disposal.decided_at.date() + timedelta(days=35) \
        or disposal.backups_age_out_on == disposal.decided_at.date() + timedelta(days=36)
    app = as_user(testapp, "supervisor")
    record = app.get(f"/disposals/{disposal_id}")
    for text in ("廃棄記録", "3 件", "supervisor user", "second supervisor", OVERRIDE,
                 "バックアップから消える日"):
        assert text in record.text
    as_json = app.get(f"/disposals/{disposal_id}.json").json
    assert as_json["applications"] == 3 and as_json["decided_by"]["username"] == second_supervisor
    assert "name" in as_json["erased_fields"] and as_json["statistics"]["by_status"]
    # The chain still verifies, and says who did what.
    assert verify(dbsession).ok
    actions = dbsession.execute(select(AuditRecord.action).where(
        AuditRecord.action.startswith("disposal.")).order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["disposal.request", "disposal.approve"]
    # A disposed programme cannot be disposed of twice or edited.
    assert "廃棄済み" in app.get(f"/programmes/{programme}").text
    again = request_disposal(app, programme, override=True, reason=OVERRIDE, status=409)
    assert "保存中（アーカイブ済み）の事業だけです" in again.text
    form = main_form(app.get(f"/programmes/{programme}"))
    form["name"] = "名前を変える"
    edited = form.submit(expect_errors=True)
    assert edited.status_int == 400 and "廃棄済みの事業は変更できません" in edited.text
    # Approving the same request twice does nothing more.
    assert "すでに処理済み" in decide(as_user(testapp, "security_officer"), disposal_id,
                                     status=409).text
    app = as_user(testapp, "supervisor")
    dashboard = as_user(testapp, "staff").get("/dashboard").text
    assert "状況ごとの件数（合計 3 件）" in dashboard and "tokubetsu-2020 の給付金" in dashboard


def test_no_personal_data_is_findable_anywhere_after_disposal(
        spool, testapp, session_factory, second_supervisor, db_url, tmp_path, public_host):
    needles = people_needles()

    def the_scan_sees_them_before():
        # The same scan, before the approval, finds the applicants: it can see what it seeks.
        assert len(found_in(database_bytes(db_url, tmp_path), needles)) >= len(PEOPLE) * 5
        assert found_in(b"".join(p.read_bytes() for p in spool.iterdir()), needles)

    populate_and_dispose(testapp, session_factory, spool, second_supervisor,
                         the_scan_sees_them_before)
    staff = as_user(testapp, "supervisor")
    # The screens and exports staff and officers use.
    for receipt, name, *_ in PEOPLE:
        assert "0 件" in staff.get("/applications", {"receipt": receipt}).text
        assert "0 件" in staff.get("/applications", {"name": name.split("　")[0]}).text
    surfaces = {"applications.csv": staff.get("/applications.csv").body,
                "history.csv": staff.get("/history.csv").body}
    officer = as_user(testapp, "security_officer")
    surfaces["audit.csv"] = officer.get("/audit.csv").body
    surfaces["audit screen"] = officer.get("/audit").body
    for name, body in surfaces.items():
        assert found_in(body, needles) == [], f"personal data in {name}"
    # The next snapshot no longer carries the programme; the residents' page says so.
    answer = residents_page_after(session_factory, public_host).post(
        "/lookup", {"programme": "tokubetsu-2020", "receipt_number": "12345678"}, status=200)
    assert "照会は終了しました" in answer.text
    # The whole database, as a backup would hold it, and the files left beside it.
    assert found_in(database_bytes(db_url, tmp_path), needles) == []
    for path in spool.parent.rglob("*"):
        if path.is_file() and "sqlite" not in path.name:
            assert found_in(path.read_bytes(), needles) == [], path


def database_bytes(db_url, tmp_path) -> bytes:
    """pg_dump of the whole database on PostgreSQL; on SQLite the file and its log."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"))
                        if p.exists())
    dump = subprocess.run(
        [str(postgres_bindir() / "pg_dump"), "-h", url.host, "-p", str(url.port),
         "-U", url.username, "--no-owner", url.database],
        check=True, capture_output=True)
    assert b"CREATE TABLE public.applications" in dump.stdout
    return dump.stdout


def test_a_disclosure_shows_everything_held_and_is_audited(spool, testapp, session_factory,
                                                          dbsession):
    programme = make_programme(session_factory)
    published(session_factory, 7001)            # before the applicant existed: not theirs
    app = as_user(testapp, "supervisor")
    assert import_confirm(app, upload(app, programme, encoded())).status_int == 303
    published(session_factory, 7002)            # carried the applicant's keyed hash
    one = dbsession.execute(select(Application).where(
        Application.receipt_number_normalised == "12345678")).scalar_one()
    assert change(app, one.id, status="reviewing", reason=CALL_NOTE).status_int == 303
    page = app.get(f"/applications/{one.id}/disclosure")
    for text in ("髙橋　一郎", "タカハシ　イチロウ", "中央区1丁目①番", "042-000-0001", "1980年1月2日",
                 CALL_NOTE, "applicants.csv", "状況の変更", "受付済 → 審査中", "supervisor user",
                 "7002"):
        assert text in page.text, text
    # Read by the resident: statuses, methods and actions in words, no codes or JSON.
    for code in ("application.status", "reviewing", '{"', "manual"):
        assert code not in visible_text(page.text), code
    assert "7001" not in page.text
    csv = app.get(f"/applications/{one.id}/disclosure.csv")
    assert "髙橋　一郎" in csv.text and CALL_NOTE in csv.text and "取込" in csv.text
    header, *rows = list(csvlib.reader(io.StringIO(csv.text.lstrip("\ufeff"))))
    assert header == ["区分", "項目・日時", "内容", "詳細1", "詳細2", "詳細3", "コード",
                      "記録（JSON）", "個人情報（JSON）"]
    # The six columns the resident reads are words; the stored codes and JSON sit apart.
    words = [" ".join(row[:6]) for row in rows]
    for code in ("application.status", "reviewing", '{"', "manual", "postal"):
        assert not any(code in line for line in words), code
    audit_rows = [row for row in rows if row[0] == "監査記録"]
    status_row = next(row for row in audit_rows if row[6] == "application.status")
    assert status_row[2] == "状況の変更" and "審査中" in status_row[4]
    assert CALL_NOTE in status_row[4] and status_row[7].startswith("{")
    assert rows[9][:3] == ["申請", "状況", "審査中"] and rows[9][6] == "reviewing"
    assert any(row[0] == "履歴" and row[2] == "受付済 → 審査中" and row[4] == "個別変更"
               for row in rows)
    # Another applicant's data is not in it.
    assert "山﨑" not in page.text and "山﨑" not in csv.text
    produced = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "disclosure.produce")).scalars().all()
    assert [r.target for r in produced] == [f"application:{one.id}"] * 2
    assert all("髙橋" not in r.details for r in produced)
    # Staff may not produce one: a supervisor answers the request.
    assert as_user(testapp, "staff").get(f"/applications/{one.id}/disclosure",
                                         status=403).status_int == 403


def published(session_factory, sequence):
    with transaction.manager:
        get_tm_session(session_factory, transaction.manager).add(Publication(
            state=PUBLISHED, requested_at=utcnow(), finished_at=utcnow(), sequence=sequence,
            sha256="ab" * 32))


def residents_page_after(session_factory, public_host):
    """Build the next snapshot from the intranet database and let the public host take it."""
    with transaction.manager:
        data = build_snapshot(
            get_tm_session(session_factory, transaction.manager),
            signing_keys=[public_host.signing_key], lookup_secret=public_host.secret,
            origin=Origin.parse(ORIGIN), sequence=public_host.sequence + 1,
            now=datetime.now(UTC), valid_for=timedelta(hours=72)).data
    assert found_in(data, people_needles()) == []
    public_host.drop(data)
    public_host.receive()
    return public_host.app()


def test_the_lifecycle_screens_speak_english_too(testapp, session_factory, dbsession):
    programme, _disposal = requested(testapp, session_factory, dbsession)
    app = testapp
    page = app.get("/programmes")
    app.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    screen = app.get(f"/programmes/{programme}").text
    for text in ("Retention and disposal", "Archived (read-only)", "Retention period (years)",
                 "Disposal requests and records", "Awaiting approval"):
        assert text in screen, text
    refused = request_disposal(app, programme, override=True, reason=OVERRIDE, status=409)
    assert "already has a disposal request" in refused.text
    ledger = app.get("/disposals").text
    assert "Disposal requests" in ledger and "Awaiting approval" in ledger
