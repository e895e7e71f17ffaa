"""Building a snapshot from a real database (SQLite and PostgreSQL), and what it must not hold."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import transaction

from intranet.applications.models import Application
from intranet.audit.writer import utcnow
from intranet.db import get_tm_session
from intranet.deficiencies.catalogue import add_defaults
from intranet.programmes.models import Programme
from intranet.publications.build import build_snapshot
from tests.privacy import birth_date_forms, found_in
from tests.unit.transfer.snapshots import new_key
from transfer.answer import answer_entry
from transfer.lookup import lookup_key
from transfer.verify import Origin, TrustPolicy, verify_snapshot

SECRET = b"L" * 32
ORIGIN = Origin("142158", "prod")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

# What staff wrote about each one's papers (不備内容): internal, never on the public host.
REASONS = ["免許証の写しが裏面のみ、髙橋様へ電話済み（042-769-8231）",
           "通帳の写しが不鮮明。山﨑様ご本人より再送の連絡あり",
           "Signature missing; Mr Smith said he is abroad until July"]
# Known personal data, deliberately distinctive, that must never reach the public host.
PEOPLE = [
    ("20200001", "髙橋　𠮷男", "タカハシ　ヨシオ", date(1951, 3, 4), "緑区橋本台3丁目14番15号",
     "042-769-8231"),
    ("20200002", "山﨑　花子", "ヤマザキ　ハナコ", date(1988, 12, 31), "中央区富士見6丁目1番1号",
     "090-1234-5678"),
    ("20200003", "Smith John", "スミス　ジョン", date(1975, 7, 7), "南区相模大野9-9-9",
     "03-9876-5432"),
]


@pytest.fixture
def populated(session_factory):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        plain = Programme(code="p2020", name="特別定額給付金", name_en="Special payment",
                          return_to="〒252-5277 中央区中央2-11-15 給付金担当",
                          return_to_en="Benefit Office, 2-11-15 Chuo",
                          return_to_easy="{給付金|きゅうふきん}の {係|かかり}",
                          enclose="返信用封筒", enclose_en="The return envelope",
                          enclose_easy="かえす {封筒|ふうとう}")
        second = Programme(code="p2024", name="物価高騰対策給付金", needs_birth_date=True)
        dbsession.add_all([plain, second])
        dbsession.flush()
        for programme in (plain, second):
            add_defaults(dbsession, programme.id)
        for programme, status in ((plain, "payment_scheduled"), (second, "paid")):
            for number, name, kana, birth, address, phone in PEOPLE:
                dbsession.add(Application(
                    programme_id=programme.id, receipt_number=number[:4] + "-" + number[4:],
                    receipt_number_normalised=number, name=name, kana=kana, birth_date=birth,
                    address=address, phone=phone, route="postal", received_on=date(2020, 6, 1),
                    status_code=status, scheduled_payment_on=date(2020, 7, 10),
                    paid_on=date(2020, 7, 10) if status == "paid" else None,
                    notes="口座番号 1234567 普通 みずほ銀行", updated_at=utcnow()))
        # The third programme's worth: each person 不備あり, with kinds, dates and a note.
        for n, (number, name, kana, birth, address, phone) in enumerate(PEOPLE):
            dbsession.add(Application(
                programme_id=plain.id, receipt_number=f"3{number[1:]}",
                receipt_number_normalised=f"3{number[1:]}", name=name, kana=kana,
                birth_date=birth, address=address, phone=phone, route="postal",
                received_on=date(2020, 6, 1), status_code="deficient",
                deficiency_reason=REASONS[n], deficiency_kinds=0b101 if n else 0b10,
                documents_sent_on=date(2020, 6, 20), return_by=date(2020, 7, 10),
                updated_at=utcnow()))
    return session_factory


def build(session_factory, key):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        return build_snapshot(dbsession, signing_keys=[key], lookup_secret=SECRET, origin=ORIGIN,
                              sequence=100, now=NOW, valid_for=timedelta(hours=72))


def test_built_snapshot_verifies_and_answers_lookups(populated):
    key = new_key()
    result = build(populated, key)
    snapshot = verify_snapshot(result.data, TrustPolicy([key.public_key], ORIGIN),
                               last_sequence=99, now=NOW)
    assert snapshot.table.count == 9 and snapshot.header["format"] == 2
    statuses = [s["code"] for s in snapshot.header["statuses"]]
    entry = snapshot.table.find(lookup_key(SECRET, "p2020", "2020-0001"))
    assert statuses[entry.status_index] == "payment_scheduled"
    assert entry.scheduled_payment_on == date(2020, 7, 10) and entry.paid_on is None
    # The birth-date programme answers only with the right birth date.
    assert snapshot.table.find(lookup_key(SECRET, "p2024", "20200002")) is None
    paid = snapshot.table.find(lookup_key(SECRET, "p2024", "20200002", date(1988, 12, 31)))
    assert statuses[paid.status_index] == "paid" and paid.scheduled_payment_on is None
    wording = snapshot.header["statuses"][paid.status_index]["wording"]
    assert set(wording) == {"ja", "en", "ja-easy"}


def test_a_deficient_entry_answers_with_its_kinds_return_address_and_dates(populated):
    key = new_key()
    snapshot = verify_snapshot(build(populated, key).data, TrustPolicy([key.public_key], ORIGIN),
                               last_sequence=99, now=NOW)
    programme = next(p for p in snapshot.header["programmes"] if p["code"] == "p2020")
    entry = snapshot.table.find(lookup_key(SECRET, "p2020", "30200001"))
    answer = answer_entry(snapshot.header, programme, entry)
    assert answer.status["code"] == "deficient"
    assert answer.action.missing_in("en") == [
        "A copy of a document showing your bank account (passbook or cash card, with the "
        "account number and the holder's name readable)"]
    assert answer.action.return_to_in("ja-easy") == "{給付金|きゅうふきん}の {係|かかり}"
    assert (answer.action.documents_sent_on, answer.action.return_by) == (date(2020, 6, 20),
                                                                          date(2020, 7, 10))
    # A programme without 返送先 carries none; its kinds are still there.
    other = next(p for p in snapshot.header["programmes"] if p["code"] == "p2024")
    assert "return_to" not in other and len(other["deficiency_kinds"]) == 5
    # A status that needs nothing of the resident carries no action details.
    paid = snapshot.table.find(lookup_key(SECRET, "p2024", "20200002", date(1988, 12, 31)))
    assert (paid.deficiency_kinds, paid.documents_sent_on, paid.return_by) == (0, None, None)


def test_no_personal_data_in_the_snapshot(populated):
    data = build(populated, new_key()).data
    for number, name, kana, birth, address, phone in PEOPLE:
        needles = [number, number[:4] + "-" + number[4:], name, kana, address, phone,
                   *birth_date_forms(birth), name.split("　")[0]]
        assert found_in(data, needles) == [], "found in the snapshot"
    # Every 不備内容 text, whole and in its parts: staff's words about one person's papers.
    parts = [part for reason in REASONS for part in re.split(r"[、。;（）]", reason) if len(part) >= 4]
    assert found_in(data, [*REASONS, *parts]) == []
    assert found_in(data, ["1234567", "みずほ銀行"]) == []
    assert SECRET not in data


def test_without_action_details_the_build_is_format_1_that_an_older_mirror_takes(
        session_factory, monkeypatch):
    """The intranet host upgraded first: until staff set action details, its snapshots are
    format 1, which a public host that knows format 1 only verifies (its check is the
    format-1 layout alone: ENTRY_FORMATS narrowed as it was)."""
    from transfer import snapshot as snapshot_format

    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = Programme(code="p2020", name="特別定額給付金", name_en="Special payment")
        dbsession.add(programme)
        dbsession.flush()
        add_defaults(dbsession, programme.id)
        for number, name, kana, birth, address, phone in PEOPLE:
            dbsession.add(Application(
                programme_id=programme.id, receipt_number=number, receipt_number_normalised=number,
                name=name, kana=kana, birth_date=birth, address=address, phone=phone,
                route="postal", received_on=date(2020, 6, 1), status_code="deficient",
                deficiency_reason=REASONS[0], updated_at=utcnow()))
    key = new_key()
    result = build(session_factory, key)
    assert result.header["format"] == 1 and result.header["entry_size"] == 21
    monkeypatch.setattr(snapshot_format, "ENTRY_FORMATS", {1: snapshot_format.ENTRY_V1})
    older = verify_snapshot(result.data, TrustPolicy([key.public_key], ORIGIN),
                            last_sequence=99, now=NOW)
    entry = older.table.find(lookup_key(SECRET, "p2020", "20200001"))
    assert older.header["statuses"][entry.status_index]["code"] == "deficient"
