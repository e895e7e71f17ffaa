"""The screens' chain check starts at the last signed checkpoint instead of record 1
(``services.verify_since_checkpoint``), and still catches every rewrite the full check
catches after that checkpoint — and the rewrites that recompute the chain before it.
On SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from intranet.audit import services, writer
from tests.integration import test_audit_integrity as integrity
from tests.tampering import insider, rechain
from transfer.checkpoints import read_file

# The same witness as the integrity tests: write records, sign a checkpoint.
signing_key, write = integrity.signing_key, integrity.witness

def last_signed(signing_key, path):
    return read_file(path, [signing_key.public_key])[-1].count


def screen_check(session_factory, signing_key, path):
    with session_factory() as dbsession:
        return services.verify_since_checkpoint(dbsession, read_file(path, [signing_key.public_key]))


def full_check(session_factory, signing_key, path):
    with session_factory() as dbsession:
        return services.verify(dbsession, read_file(path, [signing_key.public_key]))


def test_the_check_starts_at_the_last_checkpoint_and_counts_the_whole_chain(
        session_factory, signing_key, write):
    write(5)
    path = write(3)                       # the last checkpoint, then its note in the chain
    write(2, checkpoint=False)            # and two records since
    start = last_signed(signing_key, path)
    verdict = screen_check(session_factory, signing_key, path)
    full = full_check(session_factory, signing_key, path)
    assert full.ok and full.verified_from is None and full.checkpoints == 2
    assert verdict.ok and verdict.verified_from == start and verdict.checkpoints == 1
    assert (verdict.count, verdict.head_hash) == (full.count, full.head_hash) == \
        (start + 3, verdict.head_hash)


def test_an_edited_record_after_the_checkpoint_is_caught(engine, session_factory, signing_key,
                                                         write):
    path = write(4)
    write(3, checkpoint=False)            # the checkpoint's note, then three records
    edited = last_signed(signing_key, path) + 3
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = :s"),
                     {"s": edited})
    verdict = screen_check(session_factory, signing_key, path)
    assert not verdict.ok and verdict.broken_seq == edited
    assert "contents do not match" in verdict.reason


def test_a_deleted_record_after_the_checkpoint_is_caught(engine, session_factory, signing_key,
                                                         write):
    path = write(4)
    write(3, checkpoint=False)
    deleted = last_signed(signing_key, path) + 2
    with insider(engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = :s"), {"s": deleted})
    verdict = screen_check(session_factory, signing_key, path)
    assert not verdict.ok and verdict.broken_seq == deleted and "missing" in verdict.reason


@pytest.mark.parametrize("batch", [1, 2, 3])
@pytest.mark.parametrize("past_the_edge", [0, 1])
@pytest.mark.parametrize(("attack", "reason"), [
    ("UPDATE audit_records SET actor = 'someone-else' WHERE seq = :s", "contents do not match"),
    ("DELETE FROM audit_records WHERE seq = :s", "missing")])
def test_records_read_a_batch_at_a_time_are_each_checked_across_the_batches(
        engine, session_factory, signing_key, write, monkeypatch, batch, past_the_edge,
        attack, reason):
    """The check's rows come a batch at a time (``ranges.streamed``): an intact chain is
    read whole, and an edit or a deletion at a batch's last record or the next one's first
    is caught there."""
    from intranet.audit import ranges

    monkeypatch.setattr(ranges, "BATCH", batch)
    path = write(4)
    write(6, checkpoint=False)
    start = last_signed(signing_key, path)
    intact = screen_check(session_factory, signing_key, path)
    assert intact.ok and intact.count == full_check(session_factory, signing_key, path).count
    target = start + batch + past_the_edge
    with insider(engine) as conn:
        conn.execute(text(attack), {"s": target})
    verdict = screen_check(session_factory, signing_key, path)
    assert not verdict.ok and verdict.broken_seq == target and reason in verdict.reason


def _recomputed(conn):
    conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2"))


def _cut_back(conn):
    conn.execute(text("DELETE FROM audit_records WHERE seq > 3"))


def _back_dated(conn):
    head = conn.execute(text("SELECT seq FROM audit_head")).scalar_one()
    conn.execute(text(
        "INSERT INTO audit_records (seq, at, actor, actor_role, os_user, host, action, "
        "target, details, prev_hash, hash) SELECT :seq, :at, 'supervisor', 'supervisor', "
        "'', '', 'publication.approve', 'publication:9', '{}', '', '' FROM audit_head"),
        {"seq": head + 1, "at": writer.utcnow() - timedelta(days=1)})


def _fake_anchor(conn):
    anchor = conn.execute(text("SELECT hash FROM audit_records WHERE seq = 2")).scalar_one()
    conn.execute(text("DELETE FROM audit_records WHERE seq <= 2"))
    conn.execute(text("UPDATE audit_head SET base_seq = 2, base_hash = :h"), {"h": anchor})


@pytest.mark.parametrize(("rewrite", "rechained", "why"), [
    (_recomputed, True, "recomputed"),
    (_cut_back, True, "cut off and the head moved back"),
    (_back_dated, True, "appended afterwards"),
    (_fake_anchor, False, "audit.prune"),
])
def test_rewrites_before_or_around_the_checkpoint_are_caught(
        engine, session_factory, signing_key, write, rewrite, rechained, why):
    path = write(5)
    with insider(engine) as conn:
        rewrite(conn)
        if rechained:
            rechain(conn)
    verdict = screen_check(session_factory, signing_key, path)
    assert not verdict.ok and why in verdict.reason


def test_an_edit_before_the_checkpoint_left_unhashed_is_the_full_checks_to_find(
        engine, session_factory, signing_key, write):
    # The screen does not re-read records the signature already fixed; `audit verify`
    # (the full check, daily) does, and names the record.
    path = write(5)
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2"))
    full = full_check(session_factory, signing_key, path)
    assert not full.ok and full.broken_seq == 2


def test_without_signed_checkpoints_the_whole_chain_is_checked(engine, session_factory, write):
    write(4, checkpoint=False)
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2"))
    with session_factory() as dbsession:
        verdict = services.verify_since_checkpoint(dbsession, None)
    assert not verdict.ok and verdict.broken_seq == 2 and verdict.verified_from is None


def test_a_checkpoint_line_edited_after_it_was_read_is_checked_again(
        session_factory, signing_key, write):
    # The screens remember lines whose signature verified; an edit makes new text.
    from transfer.checkpoints import CheckpointError

    path = write(2)
    assert read_file(path, [signing_key.public_key])
    path.write_text(path.read_text().replace('"count": ', '"count": 9', 1))
    with pytest.raises(CheckpointError, match="signature does not verify"):
        read_file(path, [signing_key.public_key])
