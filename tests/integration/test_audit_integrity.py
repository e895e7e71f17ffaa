"""The audit an insider with the database cannot rewrite unnoticed.

Each test performs one rewrite the penetration test found undetected — a cut tail with
the head moved back, a recomputed chain, forged records inserted or appended, records
deleted behind a fake retention anchor — shows the plain chain check passing it (that was
the hole), and ``verify`` with the signed checkpoints catching it. On SQLite and
PostgreSQL; the trigger and the role model on PostgreSQL too.
"""

from datetime import datetime, timedelta

import pytest
import transaction
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DatabaseError

from intranet.audit import append_only, services, writer
from intranet.audit.models import AuditHead, AuditRecord
from intranet.audit.retention import prune
from intranet.db import get_tm_session
from tests.conftest import TEST_ACTOR
from tests.tampering import insider, rechain
from transfer import checkpoints
from transfer.checkpoints import CheckpointError, read_file
from transfer.keys import generate_signing_key


@pytest.fixture
def signing_key(tmp_path):
    return generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.pub")


@pytest.fixture
def witness(session_factory, signing_key, tmp_path):
    """Write ``count`` records, sign a checkpoint; returns a function doing that."""
    path = tmp_path / "checkpoints.jsonl"

    def write(count, checkpoint=True):
        with transaction.manager:
            dbsession = get_tm_session(session_factory, transaction.manager)
            for n in range(count):
                writer.append(dbsession, TEST_ACTOR, "test.action", f"n:{n}")
            if checkpoint:
                services.take_checkpoint(dbsession, TEST_ACTOR, signing_key, path)
        return path

    return write


def verdicts(session_factory, signing_key, path):
    """(plain chain check, check against the signed checkpoints)."""
    signed = read_file(path, [signing_key.public_key])
    with session_factory() as dbsession:
        return services.verify(dbsession), services.verify(dbsession, signed)


def test_the_database_refuses_update_delete_and_truncate(engine, session_factory, witness):
    witness(3, checkpoint=False)
    statements = ["UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2",
                  "DELETE FROM audit_records WHERE seq = 3"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_records")
    for statement in statements:
        with pytest.raises(DatabaseError, match=append_only.REFUSED), engine.begin() as connection:
            connection.execute(text(statement))
    with session_factory() as dbsession:
        assert services.verify(dbsession).ok


def test_truncation_with_the_head_moved_back(engine, session_factory, signing_key, witness):
    path = witness(6)
    with insider(engine) as conn:          # cut the last four, move the head back
        conn.execute(text("DELETE FROM audit_records WHERE seq > 4"))
        rechain(conn)
    plain, checked = verdicts(session_factory, signing_key, path)
    assert plain.ok
    assert not checked.ok and "cut off and the head moved back" in checked.reason


def test_a_recomputed_chain(engine, session_factory, signing_key, witness):
    path = witness(5)
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2"))
        rechain(conn)
    plain, checked = verdicts(session_factory, signing_key, path)
    assert plain.ok
    assert not checked.ok and "recomputed" in checked.reason


def test_a_forged_record_inserted(engine, session_factory, signing_key, witness):
    path = witness(5)
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET seq = seq + 1000 WHERE seq >= 3"))
        conn.execute(text("UPDATE audit_records SET seq = seq - 999 WHERE seq >= 1003"))
        conn.execute(text(
            "INSERT INTO audit_records (seq, at, actor, actor_role, os_user, host, action, "
            "target, details, prev_hash, hash) SELECT 3, at, 'supervisor', 'supervisor', '', "
            "'', 'publication.approve', 'publication:9', '{}', '', '' FROM audit_records "
            "WHERE seq = 2"))
        rechain(conn)
    plain, checked = verdicts(session_factory, signing_key, path)
    assert plain.ok
    assert not checked.ok and "inserted" in checked.reason


def test_a_forged_record_appended_back_dated(engine, session_factory, signing_key, witness):
    path = witness(3)
    with insider(engine) as conn:          # "the supervisor approved it yesterday"
        head = conn.execute(text("SELECT seq FROM audit_head")).scalar_one()
        conn.execute(text(
            "INSERT INTO audit_records (seq, at, actor, actor_role, os_user, host, action, "
            "target, details, prev_hash, hash) SELECT :seq, :at, 'supervisor', 'supervisor', "
            "'', '', 'publication.approve', 'publication:9', '{}', '', '' FROM audit_head"),
            {"seq": head + 1, "at": writer.utcnow() - timedelta(days=1)})
        rechain(conn)
    plain, checked = verdicts(session_factory, signing_key, path)
    assert plain.ok
    assert not checked.ok and "appended afterwards" in checked.reason


def test_records_deleted_behind_a_fake_retention_anchor(engine, session_factory, signing_key,
                                                        witness):
    path = witness(6)
    with insider(engine) as conn:          # records 1-4 gone, "retention" says the anchor
        anchor = conn.execute(text("SELECT hash FROM audit_records WHERE seq = 4")).scalar_one()
        conn.execute(text("DELETE FROM audit_records WHERE seq <= 4"))
        conn.execute(text("UPDATE audit_head SET base_seq = 4, base_hash = :h"), {"h": anchor})
    plain, checked = verdicts(session_factory, signing_key, path)
    # No audit.prune record names the start: caught even without the checkpoints (the
    # forged-record variants: tests/integration/test_audit_truncation.py).
    assert not plain.ok and "audit.prune" in plain.reason
    assert not checked.ok and checked.broken_seq == 5


def test_prune_cuts_at_a_signed_checkpoint_and_the_chain_still_verifies(
        engine, session_factory, signing_key, witness, tmp_path):
    witness(3, checkpoint=False)            # checkpoint A will sign 3
    path = witness(2, checkpoint=False)     # checkpoint B 5
    with insider(engine) as conn:           # everything so far is six years old
        conn.execute(text("UPDATE audit_records SET at = '2020-01-01 09:00:00'"))
        rechain(conn)
    # Signed as the job would have then (the insider edit above is only the test's clock;
    # a checkpoint noted in the chain would be in the file as well: the job's own, not these).
    with session_factory() as dbsession:
        hashes = dict(dbsession.execute(select(AuditRecord.seq, AuditRecord.hash)).all())
    checkpoint_seqs = [3, 5]
    for seq in checkpoint_seqs:
        checkpoints.append_to_file(path, checkpoints.sign(
            seq, hashes[seq], datetime(2020, 1, 1, 9), signing_key))
    signed = read_file(path, [signing_key.public_key])
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        count = prune(dbsession, TEST_ACTOR, 365, tmp_path / "archive.jsonl", signed)
    assert count == checkpoint_seqs[-1]     # cut exactly at the last signed checkpoint
    with session_factory() as dbsession:
        head = dbsession.get(AuditHead, 1)
        last = checkpoint_seqs[-1]
        assert (head.base_seq, head.base_hash) == (last, hashes[last])
        assert services.verify(dbsession, signed).ok
        # The permit lived only inside the prune's transaction.
        permits = dbsession.execute(text("SELECT count(*) FROM audit_prune_permits"))
        assert permits.scalar_one() == 0


def test_a_checkpoint_with_a_forged_signature_is_refused(signing_key, witness, tmp_path):
    path = witness(2)
    line = path.read_text().replace('"count": ', '"count": 1', 1)
    path.write_text(line)
    with pytest.raises(CheckpointError, match="signature does not verify"):
        read_file(path, [signing_key.public_key])
    other = generate_signing_key(tmp_path / "other.key", tmp_path / "other.pub")
    path.unlink()
    witness(1)
    with pytest.raises(CheckpointError, match="signature does not verify"):
        read_file(path, [other.public_key])


# The role model (docs/security-review.md, "Database roles"): the installer's GRANTs.
ROLE_GRANTS = """
CREATE ROLE shinsei_web LOGIN;
CREATE ROLE shinsei_pruner LOGIN;
GRANT SELECT, INSERT ON audit_records TO shinsei_web;
GRANT SELECT, UPDATE ON audit_head TO shinsei_web;
GRANT SELECT ON audit_prune_permits TO shinsei_web;
GRANT SELECT, DELETE ON audit_records TO shinsei_pruner;
GRANT SELECT, INSERT, DELETE ON audit_prune_permits TO shinsei_pruner;
GRANT USAGE ON SEQUENCE audit_prune_permits_id_seq TO shinsei_pruner;
-- The retention DELETE takes its openings off the relief figure's counts (a trigger).
GRANT SELECT, INSERT, UPDATE ON audit_view_days TO shinsei_pruner;
"""


def test_postgresql_roles_the_web_app_cannot_delete_or_permit(engine, witness):
    if engine.dialect.name != "postgresql":
        pytest.skip("database roles exist on PostgreSQL only")
    witness(3, checkpoint=False)
    with engine.begin() as conn:
        conn.execute(text("DROP ROLE IF EXISTS shinsei_web"))
        conn.execute(text("DROP ROLE IF EXISTS shinsei_pruner"))
    try:
        with engine.begin() as conn:
            conn.execute(text(ROLE_GRANTS))
        web = create_engine(engine.url.set(username="shinsei_web"))
        with web.begin() as conn:
            conn.execute(text("SELECT count(*) FROM audit_records")).scalar_one()
        for statement in ("UPDATE audit_records SET actor = 'x' WHERE seq = 1",
                          "DELETE FROM audit_records WHERE seq = 1",
                          "INSERT INTO audit_prune_permits (through_seq) VALUES (99)"):
            with pytest.raises(DatabaseError, match="permission denied"), web.begin() as conn:
                conn.execute(text(statement))
        web.dispose()
        pruner = create_engine(engine.url.set(username="shinsei_pruner"))
        # Even the pruner cannot delete without a permit (the trigger) ...
        with pytest.raises(DatabaseError, match=append_only.REFUSED), pruner.begin() as conn:
            conn.execute(text("DELETE FROM audit_records WHERE seq = 1"))
        # ... and with one, only up to it.
        with pruner.begin() as conn:
            conn.execute(text("INSERT INTO audit_prune_permits (through_seq) VALUES (1)"))
            conn.execute(text("DELETE FROM audit_records WHERE seq = 1"))
            conn.execute(text("DELETE FROM audit_prune_permits"))
        pruner.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP OWNED BY shinsei_web, shinsei_pruner"))
            conn.execute(text("DROP ROLE shinsei_web"))
            conn.execute(text("DROP ROLE shinsei_pruner"))
