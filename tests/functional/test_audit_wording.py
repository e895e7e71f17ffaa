"""The audit screens in the words staff use: actions, fields, statuses and dates in Japanese
(English in the English UI), never the stored codes or JSON; the record itself one click
away and in the CSV."""

import re

from sqlalchemy import select

from intranet.audit.models import AuditRecord
from tests.conftest import csrf_token, login
from tests.factories import make_applications, make_programme
from tests.functional.test_applications import change
from tests.visible_text import visible_text

# What the stored records hold and a reader must never have to decode.
RAW = ["application.status", "login.success", "login.failure", "user.update", "status_changed",
       "status_before", "status_after", "scheduled_payment_on", "payment_scheduled",
       "reviewing", "approved", '{"', "credentials", "is_active", "display_name"]


def _day(testapp, session_factory):
    """A day's work that leaves records of several kinds, with statuses, dates and fields."""
    one = make_applications(session_factory, make_programme(session_factory), 1,
                            start=12345678)[0]
    login(testapp, "staff", "wrong", status=401)
    staff = login(testapp, "staff") and testapp
    change(staff, one, status="reviewing", reason="書類確認開始")
    change(staff, one, status="approved")
    assert change(staff, one, status="payment_scheduled",
                  scheduled_payment_on="2020-07-10").status_int == 303
    admin = login(testapp, "admin") and testapp
    users = admin.get("/users")
    edit = re.search(r'href="http://localhost(/users/\d+)"[^>]*>[^<]*staff', users.text)
    page = admin.get(edit.group(1))
    form = next(f for f in page.forms.values() if "display_name" in f.fields)
    form["display_name"] = "窓口 太郎"
    form.submit()
    login(testapp, "security_officer")
    return one


def test_the_audit_log_reads_as_japanese(testapp, session_factory):
    _day(testapp, session_factory)
    page = testapp.get("/audit")
    text = visible_text(page.text)
    for words in ["状況の変更", "変更前の状況", "変更後の状況", "審査中", "振込予定", "受付番号",
                  "振込予定日", "2020年7月10日", "ログインの失敗", "名前またはパスワードの誤り",
                  "ユーザーの変更", "表示名", "窓口 太郎", "担当職員"]:
        assert words in text, words
    for raw in RAW:
        assert raw not in text, raw


def test_one_record_shows_its_words_above_the_record_as_stored(testapp, session_factory,
                                                               dbsession):
    one = _day(testapp, session_factory)
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.status").order_by(AuditRecord.seq.desc())
        .limit(1)).scalar_one()
    page = testapp.get(f"/audit/{record.seq}")
    text = visible_text(page.text)
    assert "状況の変更" in text and "振込予定日" in text and "2020年7月10日" in text
    # The record as stored, for whoever checks it: code, JSON, hashes, the side values.
    assert "application.status" in text and '"status_after": "payment_scheduled"' in text
    assert record.hash in text and f"{one}" in text and "2020-07-10" in text
    testapp.get("/audit/999999", status=404)


def test_the_action_filter_offers_actions_by_name(testapp, session_factory):
    _day(testapp, session_factory)
    page = testapp.get("/audit", {"action": "login.failure"})
    text = visible_text(page.text)
    assert "名前またはパスワードの誤り" in text and "<td>ログイン</td>" not in page.text
    assert '<option value="login.failure" selected>' in page.text
    assert "ログイン（すべて）" in text


def test_the_csv_has_words_and_the_record(testapp, session_factory):
    _day(testapp, session_factory)
    body = testapp.get("/audit.csv").body.decode("utf-8-sig")
    header = body.splitlines()[0]
    assert header.startswith("番号,日時（日本時間）,ユーザー,役割") and "記録（JSON）" in header
    assert "状況の変更" in body and "application.status" in body
    assert "変更後の状況: 振込予定" in body and "担当職員" in body


def test_the_audit_log_reads_as_english_in_the_english_ui(testapp, session_factory):
    _day(testapp, session_factory)
    page = testapp.get("/audit")
    testapp.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    english = testapp.get("/audit")
    text = visible_text(english.text)
    # Each row's links, translated once per page with the row's number put in.
    numbers = re.findall(r'aria-label="Details of record no\. (\d+)">(\d+)</a>', english.text)
    assert numbers and all(label == shown for label, shown in numbers)
    assert text.count("Record details (as stored)") == len(numbers)
    for words in ["Status change", "Status before", "Under review", "Scheduled payment date",
                  "Failed sign-in", "Wrong name or password", "Account change",
                  "Display name", "Staff"]:
        assert words in text, words
    # English prose may say "approved"; codes with dots, underscores or braces it never does.
    for raw in RAW:
        assert raw not in text or raw.isalpha(), raw
    for japanese in ["状況の変更", "変更前の状況", "ログインの失敗", "振込予定日", "表示名"]:
        assert japanese not in text, japanese
