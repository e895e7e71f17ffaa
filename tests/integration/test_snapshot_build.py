"""Building a snapshot from a real database (SQLite and PostgreSQL), and what it must not hold."""

from datetime import UTC, date, datetime, timedelta

import pytest
import transaction

from intranet.applications.models import Application
from intranet.audit.writer import utcnow
from intranet.db import get_tm_session
from intranet.programmes.models import Programme
from intranet.publications.build import build_snapshot
from tests.unit.transfer.snapshots import new_key
from transfer.lookup import lookup_key
from transfer.verify import Origin, TrustPolicy, verify_snapshot

SECRET = b"L" * 32
ORIGIN = Origin("142158", "prod")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

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
        plain = Programme(code="p2020", name="特別定額給付金", name_en="Special payment")
        second = Programme(code="p2024", name="物価高騰対策給付金", needs_birth_date=True)
        dbsession.add_all([plain, second])
        dbsession.flush()
        for programme, status in ((plain, "payment_scheduled"), (second, "paid")):
            for number, name, kana, birth, address, phone in PEOPLE:
                dbsession.add(Application(
                    programme_id=programme.id, receipt_number=number[:4] + "-" + number[4:],
                    receipt_number_normalised=number, name=name, kana=kana, birth_date=birth,
                    address=address, phone=phone, route="postal", received_on=date(2020, 6, 1),
                    status_code=status, scheduled_payment_on=date(2020, 7, 10),
                    paid_on=date(2020, 7, 10) if status == "paid" else None,
                    notes="口座番号 1234567 普通 みずほ銀行", updated_at=utcnow()))
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
    assert snapshot.table.count == 6
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


def _spellings(value: str):
    forms = {value, value.replace("　", " "), value.replace("-", "")}
    for form in list(forms):
        for encoding in ("utf-8", "cp932", "utf-16-le", "utf-16-be", "euc_jp"):
            try:
                yield form.encode(encoding)
            except UnicodeEncodeError:
                continue


def test_no_personal_data_in_the_snapshot(populated):
    data = build(populated, new_key()).data
    for number, name, kana, birth, address, phone in PEOPLE:
        needles = [number, number[:4] + "-" + number[4:], name, kana, address, phone,
                   birth.isoformat(), birth.strftime("%Y%m%d"), birth.strftime("%Y/%m/%d"),
                   f"{birth.year}年{birth.month}月{birth.day}日", name.split("　")[0]]
        for needle in needles:
            for spelled in _spellings(needle):
                assert spelled not in data, f"{needle!r} found in the snapshot"
    for secret in ("1234567", "みずほ銀行"):
        for spelled in _spellings(secret):
            assert spelled not in data
    assert SECRET not in data
