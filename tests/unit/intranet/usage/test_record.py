"""The recorder's side of the usage counts: what passes replaces the host's days; a hostile
file is refused with its reason in the audit chain and changes nothing else."""

import json
from datetime import timedelta

import pytest
import transaction
from sqlalchemy import func, select, text

from intranet.audit import writer
from intranet.audit.models import AuditRecord
from intranet.db import get_tm_session
from intranet.programmes.models import Programme
from intranet.publications.builder import job_actor
from intranet.usage.models import UsageCount
from intranet.usage.record import record_fetched
from tests.factories import make_programme
from transfer import spool, usage_counts

HOST_A = "sftp://shinsei-upload@192.0.2.10:22/inbox"
HOST_B = "sftp://shinsei-upload@192.0.2.11:22/inbox"
TODAY = usage_counts.today_in_japan()


def counts(day=TODAY, programme="tokubetsu-2020", lookups=10, found=7, limited=1, **top):
    return json.dumps({"format": "shinsei-usage-counts", "version": 1, "counts": [
        {"day": day.isoformat(), "programme": programme, "lookups": lookups, "found": found,
         "not_found": lookups - found, "limited": limited}], **top}).encode()


def report(results, files: dict[str, bytes]):
    """The pusher's report naming each host's fetched file, read back as the recorder does."""
    deliveries = []
    for number, (host, data) in enumerate(files.items()):
        deliveries.append({"destination": host, "delivered": True, "reason": "",
                           "host_key_fingerprint": "", "attempts": 1,
                           "usage": spool.write_usage(results, number, data)})
    spool.write_result(results, {"sequence": 1, "verified": False, "reason": "",
                                 "deliveries": deliveries})
    return spool.read_result(results)


def record(session_factory, results, result):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        record_fetched(dbsession, job_actor(), result, results)


def stored(session_factory):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        return sorted((r.host, r.day, r.lookups, r.found, r.not_found, r.limited)
                      for r in dbsession.execute(select(UsageCount)).scalars())


def refusals(session_factory):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        return [(r.target, json.loads(r.details)["reason"]) for r in dbsession.execute(
            select(AuditRecord).where(AuditRecord.action == "transfer.usage_refused")).scalars()]


@pytest.fixture
def results(tmp_path):
    return tmp_path


def test_each_hosts_counts_are_stored_and_a_newer_fetch_replaces_the_day(session_factory,
                                                                       results):
    make_programme(session_factory)
    record(session_factory, results, report(results, {HOST_A: counts(), HOST_B: counts(lookups=4,
                                                                                     found=4)}))
    assert stored(session_factory) == [(HOST_A, TODAY, 10, 7, 3, 1), (HOST_B, TODAY, 4, 4, 0, 1)]
    # Later the same day host A has answered more: its day is replaced, B's is kept.
    record(session_factory, results, report(results, {HOST_A: counts(lookups=25, found=20)}))
    assert stored(session_factory) == [(HOST_A, TODAY, 25, 20, 5, 1), (HOST_B, TODAY, 4, 4, 0, 1)]
    # The same file fetched again changes nothing (idempotent).
    record(session_factory, results, report(results, {HOST_A: counts(lookups=25, found=20)}))
    assert stored(session_factory) == [(HOST_A, TODAY, 25, 20, 5, 1), (HOST_B, TODAY, 4, 4, 0, 1)]
    assert refusals(session_factory) == []


HOSTILE = {
    "huge": (b"{" + b" " * (usage_counts.MAX_SIZE + 1) + b"}", "上限"),
    "negative": (counts(limited=-1), "limited が 0 以上"),
    "not an integer": (counts().replace(b'"limited": 1', b'"limited": "1"'), "limited が 0 以上"),
    "float": (counts().replace(b'"limited": 1', b'"limited": 1.0'), "整数でない数"),
    "bool": (counts().replace(b'"limited": 1', b'"limited": true'), "limited が 0 以上"),
    "extra field": (counts(note="x"), "3 つちょうど"),
    "missing field": (counts().replace(b', "limited": 1', b""), "不足: limited"),
    "receipt number": (counts(programme="1000-0001"), "受付番号と読める"),
    # Two days on: still the future if the run passes a midnight after collecting this.
    "future day": (counts(day=TODAY + timedelta(days=2)), "未来の日付"),
    "unknown programme": (counts(programme="nai"), "事業コードではありません"),
    "duplicate keys": (counts().replace(b'"limited": 1', b'"limited": 1, "limited": 2'),
                       "同じ項目名"),
    "deeply nested": (b"[" * 5000, "入れ子"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_file_is_refused_with_its_reason_and_nothing_changes(session_factory, results,
                                                                      case):
    make_programme(session_factory)
    record(session_factory, results, report(results, {HOST_A: counts()}))
    before = stored(session_factory)
    data, reason = HOSTILE[case]
    record(session_factory, results, report(results, {HOST_A: data}))
    assert stored(session_factory) == before
    [(target, said)] = refusals(session_factory)
    assert target == HOST_A and reason in said
    assert said.startswith("公開ホストの利用件数ファイルを受け付けませんでした")
    assert "1000-0001" not in said and "10000001" not in said


def test_a_file_swapped_after_the_report_is_refused(session_factory, results):
    """The recorder stores only the bytes the report names (its SHA-256)."""
    make_programme(session_factory)
    result = report(results, {HOST_A: counts()})
    (results / "usage-0.json").write_bytes(counts(lookups=999_999, found=0))
    record(session_factory, results, result)
    assert stored(session_factory) == []
    [(_, said)] = refusals(session_factory)
    assert "SHA-256" in said


def test_a_host_with_nothing_fetched_changes_nothing(session_factory, results):
    make_programme(session_factory)
    spool.write_result(results, {"sequence": 1, "verified": False, "reason": "", "deliveries": [
        {"destination": HOST_A, "delivered": True, "reason": "", "host_key_fingerprint": "",
         "attempts": 1, "usage": {"reason": "usage counts not fetched: FileNotFoundError"}}]})
    record(session_factory, results, spool.read_result(results))
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        assert dbsession.execute(select(func.count()).select_from(UsageCount)).scalar() == 0
    assert refusals(session_factory) == []


def test_counts_the_database_cannot_store_are_a_refusal_and_the_transaction_stands(
        session_factory, engine, results):
    """The recorder stores the counts in the transaction that records the deliveries: a
    database error storing them (here the table is gone, as a botched upgrade could leave
    it) is recorded as a refusal, and what the transaction wrote before it is kept."""
    make_programme(session_factory)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE usage_counts"))
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        # As the recorder: its transaction holds the publications' lock and has written.
        dbsession.execute(select(Programme).with_for_update())
        writer.append(dbsession, job_actor(), "transfer.usage_refused", "earlier", reason="kept")
        record_fetched(dbsession, job_actor(), report(results, {HOST_A: counts()}), results)
    [earlier, refused] = refusals(session_factory)
    assert earlier == ("earlier", "kept")
    assert refused[0] == HOST_A and "データベースに記録できませんでした" in refused[1], refused
