"""A request's table made while it waits for its approval (builder.prepare_waiting): the
approval's build then reads no frozen row, and what it spools is byte for byte what a
full build of the approved content makes. Rows that do not reproduce the request's digest
are never prepared; a table prepared for another content, or under another lookup key,
is never taken for this one."""

import json
import logging
from datetime import date, datetime, timedelta

import pytest
import transaction
from sqlalchemy import select, text

from intranet.audit.models import AuditRecord
from intranet.db import get_tm_session
from intranet.publications import builder, content, services
from intranet.publications.build import ContentMismatch
from intranet.publications.job import PublishPlan, publish
from intranet.publications.models import PUBLISHED, Publication
from intranet.users.services import find_user
from tests.factories import make_applications, make_programme
from tests.integration.test_incremental_build import build, set_status
from tests.integration.test_publish import JOB
from transfer import build_cache, spool
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination
from transfer.verify import Origin

PREPARED = "its table was made before"


@pytest.fixture
def secret(tmp_path):
    return generate_lookup_key(tmp_path / "lookup.key")


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "spool"
    spool.prepare(path)
    return path


def build_plan(secret):
    return builder.BuildPlan(secret, Origin("142158", "prod"), timedelta(hours=72), JOB)


def requested(session_factory):
    """A request by staff, waiting for its approval."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        publication = services.request_publication(
            dbsession, JOB, find_user(dbsession, "staff"), "test", True)
        return publication.id


def approve(session_factory, publication_id):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        publication = dbsession.get(Publication, publication_id)
        services.decide(dbsession, JOB, find_user(dbsession, "supervisor"), publication,
                        True, True, digest=publication.content_digest)


def reject(session_factory, publication_id):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        services.decide(dbsession, JOB, find_user(dbsession, "supervisor"),
                        dbsession.get(Publication, publication_id), False, True)


def the_requests_run(session_factory, secret, root):
    """A run of the builder between the request and its approval (the weekday timer's): it
    finds nothing approved, prepares the request, then spools the audit head alone."""
    return builder.build_spool(session_factory, build_plan(secret), root)


def no_frozen_row_read(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("the frozen rows were read")

    monkeypatch.setattr(content, "read_frozen", refused)


def delivered(session_factory, publication_id):
    """Recorded as delivered: the next request notes its changes against it."""
    with transaction.manager:
        publication = get_tm_session(session_factory, transaction.manager).get(
            Publication, publication_id)
        publication.state, publication.finished_at = PUBLISHED, datetime.now()


def state(session_factory, publication_id):
    with session_factory() as dbsession:
        return dbsession.get(Publication, publication_id).state


@pytest.fixture
def applications(session_factory):
    plain = make_programme(session_factory)
    birth = make_programme(session_factory, "bukka-2024", needs_birth_date=True)
    ids = make_applications(session_factory, plain, 60)
    make_applications(session_factory, birth, 40, start=5_000)
    return ids


def test_the_approval_builds_the_prepared_table_without_reading_a_row(
        session_factory, accounts, engine, applications, secret, root, caplog, monkeypatch):
    built = root / spool.BUILT
    for changed in ([], applications[:1], applications[5:12]):   # full, then from the last
        set_status(engine, changed, status_code="paid", paid_on=date(2020, 8, 3))
        publication_id = requested(session_factory)
        spooled = the_requests_run(session_factory, secret, root)
        assert spooled.publication_id is None and state(session_factory, publication_id) == \
            "requested"                                   # nothing published, nothing changed
        kept = build_cache.load(built, secret)
        with session_factory() as dbsession:
            assert kept.content_digest == dbsession.get(Publication,
                                                        publication_id).content_digest
        approve(session_factory, publication_id)
        with monkeypatch.context() as patched, caplog.at_level(logging.INFO):
            no_frozen_row_read(patched)
            fast = build(session_factory, publication_id, secret, built)
        assert any(PREPARED in r.getMessage() for r in caplog.records)
        full = build(session_factory, publication_id, secret, None)
        assert (fast.header, fast.body, fast.entry_count, fast.skipped) == (
            full.header, full.body, full.entry_count, full.skipped)
        delivered(session_factory, publication_id)


def test_the_approvals_run_spools_the_prepared_table(session_factory, accounts, engine,
                                                     applications, secret, root, monkeypatch):
    publication_id = requested(session_factory)
    the_requests_run(session_factory, secret, root)
    approve(session_factory, publication_id)
    no_frozen_row_read(monkeypatch)
    assert builder.build_spool(session_factory, build_plan(secret), root).publication_id == \
        publication_id
    assert state(session_factory, publication_id) == "spooled"
    monkeypatch.undo()
    spooled = spool.read_built(root / spool.BUILT)
    full = build(session_factory, publication_id, secret, None)
    assert (spooled.header["content_digest"], spooled.body) == (full.header["content_digest"],
                                                                full.body)


def test_rows_altered_before_the_preparation_are_not_prepared_and_refused_at_approval(
        session_factory, accounts, engine, applications, secret, root, caplog):
    publication_id = requested(session_factory)
    with engine.begin() as connection:     # someone with the database edits the frozen rows
        connection.execute(text("UPDATE publication_rows SET status_code = 'paid'"))
    with caplog.at_level(logging.ERROR):
        the_requests_run(session_factory, secret, root)
    assert any(f"publication {publication_id} not prepared" in r.getMessage()
               for r in caplog.records)
    assert build_cache.load(root / spool.BUILT, secret) is None
    assert state(session_factory, publication_id) == "requested"
    approve(session_factory, publication_id)
    with pytest.raises(ContentMismatch, match="no longer reproduce the approved digest"):
        build(session_factory, publication_id, secret, root / spool.BUILT)


def test_rows_altered_after_the_preparation_never_reach_the_table(
        session_factory, accounts, engine, applications, secret, root):
    """What is spooled is what was approved (its digest): the table made from the rows that
    reproduced it, not rows edited since in the database."""
    publication_id = requested(session_factory)
    the_requests_run(session_factory, secret, root)
    approve(session_factory, publication_id)
    expected = build(session_factory, publication_id, secret, None)
    with engine.begin() as connection:
        connection.execute(text("UPDATE publication_rows SET status_code = 'paid'"))
    fast = build(session_factory, publication_id, secret, root / spool.BUILT)
    assert fast.body == expected.body
    assert fast.header["content_digest"] == expected.header["content_digest"]


def test_rows_deleted_after_the_preparation_send_the_build_to_read_and_refuse(
        session_factory, accounts, engine, applications, secret, root, caplog):
    """A programme disposed of while the request waited cuts its frozen rows: its
    applications must not be published from the table made before."""
    publication_id = requested(session_factory)
    the_requests_run(session_factory, secret, root)
    approve(session_factory, publication_id)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM publication_rows WHERE publication_id = :id "
                                "AND programme_code = 'bukka-2024'"), {"id": publication_id})
    with caplog.at_level(logging.INFO), pytest.raises(
            ContentMismatch, match="no longer reproduce the approved digest"):
        build(session_factory, publication_id, secret, root / spool.BUILT)
    assert not any(PREPARED in r.getMessage() for r in caplog.records)


def test_a_table_prepared_for_other_content_is_not_taken(
        session_factory, accounts, engine, applications, secret, root, caplog):
    """Prepared for one request, which is rejected; another, with one more change, is
    approved: its build reads its rows and starts from the prepared table (the same bytes
    as a full build), never takes it as it is."""
    first = requested(session_factory)
    the_requests_run(session_factory, secret, root)
    reject(session_factory, first)
    set_status(engine, applications[:2], status_code="paid", paid_on=date(2020, 8, 3))
    second = requested(session_factory)
    approve(session_factory, second)
    with caplog.at_level(logging.INFO):
        fast = build(session_factory, second, secret, root / spool.BUILT)
    assert not any(PREPARED in r.getMessage() for r in caplog.records)
    full = build(session_factory, second, secret, None)
    assert (fast.header, fast.body) == (full.header, full.body)


def test_a_table_prepared_under_another_lookup_key_is_not_taken(
        session_factory, accounts, engine, applications, secret, root, tmp_path, caplog):
    """The lookup key rotated between the request and its approval: every hash of the
    prepared table was made with the old key."""
    publication_id = requested(session_factory)
    the_requests_run(session_factory, secret, root)
    approve(session_factory, publication_id)
    rotated = generate_lookup_key(tmp_path / "rotated.key")
    with caplog.at_level(logging.INFO):
        fast = build(session_factory, publication_id, rotated, root / spool.BUILT)
    assert not any(PREPARED in r.getMessage() for r in caplog.records)
    full = build(session_factory, publication_id, rotated, None)
    assert fast.body == full.body and fast.body != build(
        session_factory, publication_id, secret, None).body


def test_the_newest_waiting_request_is_prepared(session_factory, accounts, engine,
                                                applications, secret, root):
    older = requested(session_factory)
    set_status(engine, applications[:1], status_code="paid", paid_on=date(2020, 8, 3))
    newer = requested(session_factory)
    the_requests_run(session_factory, secret, root)
    with session_factory() as dbsession:
        digests = {row[0]: row[1] for row in dbsession.execute(
                   select(Publication.id, Publication.content_digest))}
    assert digests[older] != digests[newer]
    assert build_cache.load(root / spool.BUILT, secret).content_digest == digests[newer]


def test_a_second_run_for_the_same_request_reads_nothing(session_factory, accounts,
                                                         applications, secret, root,
                                                         monkeypatch):
    """The job runs again while the request still waits: prepared once."""
    requested(session_factory)
    the_requests_run(session_factory, secret, root)
    no_frozen_row_read(monkeypatch)
    the_requests_run(session_factory, secret, root)


def whole_job(secret, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir(exist_ok=True)
    signing = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    return PublishPlan([signing], secret, Origin("142158", "prod"),
                       [OutboxDestination(outbox)], timedelta(hours=72), JOB,
                       spool_dir=tmp_path / "job-spool")


def altered_records(session_factory):
    with session_factory() as dbsession:
        return dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "publication.rows_altered")).scalars().all()


def test_rows_altered_after_the_preparation_are_found_when_the_delivery_is_recorded(
        session_factory, accounts, engine, applications, secret, tmp_path):
    """The published table holds the approved content, and the edit is not let pass
    silently: the recorder reads the delivered publication's rows again, off the
    residents' path, and audits what it finds."""
    plan = whole_job(secret, tmp_path)
    publication_id = requested(session_factory)
    assert publish(session_factory, plan) == ([], [])           # a run before the approval
    approve(session_factory, publication_id)
    expected = build(session_factory, publication_id, secret, None)
    with engine.begin() as connection:     # someone with the database edits the frozen rows
        connection.execute(text("UPDATE publication_rows SET status_code = 'paid' "
                                "WHERE publication_id = :id"), {"id": publication_id})
    ids, deliveries = publish(session_factory, plan)
    assert ids == [publication_id] and all(d.delivered for d in deliveries)
    assert state(session_factory, publication_id) == "published"
    [published] = (tmp_path / "outbox").glob("snapshot-*.bin")
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).entries == expected.entry_count
    assert expected.body in published.read_bytes()          # the approved content, not the edit
    [record] = altered_records(session_factory)
    assert record.target == f"publication:{publication_id}"
    assert json.loads(record.details)["content_digest"] == expected.header["content_digest"]


def test_a_publication_left_as_it_was_frozen_raises_nothing(
        session_factory, accounts, applications, secret, tmp_path):
    plan = whole_job(secret, tmp_path)
    publication_id = requested(session_factory)
    publish(session_factory, plan)
    approve(session_factory, publication_id)
    assert publish(session_factory, plan)[0] == [publication_id]
    assert altered_records(session_factory) == []
