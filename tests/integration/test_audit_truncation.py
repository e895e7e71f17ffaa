"""Truncation in every form is caught (issue 25 item 5), on SQLite and PostgreSQL.

Each attack is what the round-three attackers did, or the next thing they would try, by
an insider with the database and the checkpoint file but not the transfer signing key:
records 1..N deleted and the head anchored at a genuine signed checkpoint (with and
without a forged ``audit.prune`` record); the checkpoint file emptied or cut, then the
chain cut back; both cut back to before any noted checkpoint, which only a public host's
copy (``shinsei-mirror status --checkpoints``) shows. Every refusal is ``audit verify``'s:
exit 1 (2 for a witness file that cannot be trusted), a Japanese message naming the
record or checkpoint, no traceback. The ordinary flows — a checkpoint a day, the monthly
prune, an installation pruned before this check — still pass.
"""

import json
from datetime import datetime, timedelta

import pytest
import transaction
from sqlalchemy import select, text

from intranet import cli
from intranet.audit import services, writer
from intranet.audit.models import AuditRecord
from intranet.audit.retention import prune
from intranet.db import get_tm_session
from lab.intranet_ini import INI
from tests.conftest import TEST_ACTOR
from tests.tampering import insider, rechain
from transfer import checkpoints
from transfer.keys import generate_signing_key

OLD = datetime(2020, 1, 1, 9)     # six years ago: past the five-year retention


@pytest.fixture
def key(tmp_path):
    return generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.pub")


@pytest.fixture
def verify(db_url, tmp_path, capsys):
    """`shinsei-intranet audit verify` with the test's checkpoint file and key, in this
    process (so this checkout's code runs): (exit code, stdout, stderr)."""
    config = tmp_path / "cli.ini"
    config.write_text(INI.format(url=db_url.replace("%", "%%")))

    def run(*extra):
        code = cli.main(["-c", str(config), "audit", "verify", "--workers", "1",
                         "--checkpoints", str(tmp_path / "checkpoints.jsonl"),
                         "--trusted-key", str(tmp_path / "sign.pub"), *extra])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run


def append(session_factory, count, action="test.action"):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        for n in range(count):
            writer.append(dbsession, TEST_ACTOR, action, f"n:{n}")


def checkpoint(session_factory, key, tmp_path):
    """The transfer job's checkpoint: signed, appended to the file, noted in the chain."""
    with transaction.manager:
        return services.take_checkpoint(get_tm_session(session_factory, transaction.manager),
                                        TEST_ACTOR, key, tmp_path / "checkpoints.jsonl")


def hash_of(engine, seq):
    with engine.connect() as conn:
        return conn.execute(text("SELECT hash FROM audit_records WHERE seq = :s"),
                            {"s": seq}).scalar_one()


def cut_start(engine, through):
    """The insider's cut: records 1..through gone, the head anchored after them."""
    anchor = hash_of(engine, through)
    with insider(engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq <= :s"), {"s": through})
        conn.execute(text("UPDATE audit_head SET base_seq = :s, base_hash = :h"),
                     {"s": through, "h": anchor})
    return anchor


def cut_tail(engine, keep):
    """The insider's other cut: records after ``keep`` gone, the head moved back."""
    with insider(engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq > :s"), {"s": keep})
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h"),
                     {"s": keep, "h": conn.execute(text(
                         "SELECT hash FROM audit_records WHERE seq = :s"), {"s": keep})
                      .scalar_one()})


def test_records_deleted_up_to_a_genuine_checkpoint_without_a_prune_record(
        engine, session_factory, key, tmp_path, verify):
    append(session_factory, 5)
    n = checkpoint(session_factory, key, tmp_path).count   # noted as record n + 1
    append(session_factory, 3)
    assert verify()[0] == 0
    cut_start(engine, n)                                   # a genuine signed anchor
    code, _out, err = verify()
    assert code == 1
    assert f"監査記録の検証に失敗しました（記録 {n + 1} 番）" in err
    assert f"記録 1〜{n} 番がありませんが、削除を記録した audit.prune の記録がありません" in err


def test_a_forged_prune_record_does_not_make_a_young_anchor_old(
        engine, session_factory, key, tmp_path, verify):
    append(session_factory, 5)
    n = checkpoint(session_factory, key, tmp_path).count
    anchor = cut_start(engine, n)
    with transaction.manager:   # the chain's hash has no key: anyone with the database can
        writer.append(get_tm_session(session_factory, transaction.manager), TEST_ACTOR,
                      "audit.prune", f"audit:1-{n}", records=n, through_seq=n,
                      anchor_hash=anchor, anchor_at="2020-01-01T09:00:00.000000Z")
    code, _out, err = verify()
    assert code == 1
    assert f"削除の起点（記録 {n} 番、署名付きチェックポイント" in err
    assert "保存期間 1830 日を過ぎていません" in err


def test_a_prune_record_for_another_start_is_refused(engine, session_factory, key, tmp_path,
                                                     verify):
    append(session_factory, 5)
    n = checkpoint(session_factory, key, tmp_path).count
    append(session_factory, 2)
    cut_start(engine, n)
    with transaction.manager:
        forged = writer.append(get_tm_session(session_factory, transaction.manager),
                               TEST_ACTOR, "audit.prune", "audit:1-3", through_seq=3,
                               anchor_hash="ab" * 32).seq
    code, _out, err = verify()
    assert code == 1 and f"最後の削除の記録（記録 {forged} 番）は記録 3 番" in err


def test_an_emptied_checkpoint_file_then_a_cut_tail_is_refused(
        engine, session_factory, key, tmp_path, verify):
    append(session_factory, 3)
    n = checkpoint(session_factory, key, tmp_path).count   # noted as record n + 1
    append(session_factory, 3)
    checkpoint(session_factory, key, tmp_path)
    append(session_factory, 2)
    assert verify()[0] == 0
    (tmp_path / "checkpoints.jsonl").write_text("")       # the round-three attack
    cut_tail(engine, n + 2)
    code, out, err = verify()
    assert code == 1 and "OK" not in out
    assert f"記録 {n + 1} 番に記された署名付きチェックポイント（{n} 件、" in err
    assert "checkpoints.jsonl が空です" in err


def test_a_checkpoint_file_cut_short_is_refused(engine, session_factory, key, tmp_path, verify):
    append(session_factory, 3)
    checkpoint(session_factory, key, tmp_path)
    append(session_factory, 3)
    n = checkpoint(session_factory, key, tmp_path).count   # noted as record n + 1
    path = tmp_path / "checkpoints.jsonl"
    path.write_text(path.read_text().splitlines(keepends=True)[0])
    code, _out, err = verify()
    assert code == 1 and f"記録 {n + 1} 番に記された署名付きチェックポイント（{n} 件、" in err
    assert "にその行がありません" in err


def test_a_cut_before_every_noted_checkpoint_is_caught_by_the_public_host(
        engine, session_factory, key, tmp_path, verify):
    """The remaining assumption (docs/security-review.md): cut back to before the first
    noted checkpoint with the file emptied, the intranet alone holds nothing that says the
    chain had checkpoints. The public host's activation log does."""
    append(session_factory, 3)
    taken = checkpoint(session_factory, key, tmp_path)
    append(session_factory, 2)
    mirror = tmp_path / "mirror-checkpoints.jsonl"     # `shinsei-mirror status --checkpoints`
    mirror.write_text(json.dumps(taken.as_dict(), sort_keys=True) + "\n")
    assert verify("--mirror-checkpoints", str(mirror))[0] == 0
    (tmp_path / "checkpoints.jsonl").write_text("")
    cut_tail(engine, taken.count - 1)
    code, out, _err = verify()
    assert code == 0 and "agrees with 0 signed checkpoints" in out   # the hole, alone
    code, _out, err = verify("--mirror-checkpoints", str(mirror))
    assert code == 1
    assert f"公開ホストの活動記録にある署名付きチェックポイント（{taken.count} 件、" in err
    assert "checkpoints.jsonl にありません" in err


def test_the_public_hosts_checkpoints_alone_catch_a_cut_back_chain(
        engine, session_factory, key, tmp_path, verify):
    """Without a local file the public host's copy is the witness the chain is held to."""
    append(session_factory, 4)
    taken = checkpoint(session_factory, key, tmp_path)
    mirror = tmp_path / "mirror-checkpoints.jsonl"
    mirror.write_text(json.dumps(taken.as_dict(), sort_keys=True) + "\n")
    (tmp_path / "checkpoints.jsonl").unlink()
    cut_tail(engine, taken.count - 1)
    with session_factory() as dbsession:
        verdict = services.verify(dbsession, None, witnesses=services.Witnesses(
            witnessed=checkpoints.read_file(mirror, [key.public_key])))
    assert not verdict.ok and "cut off" in verdict.reason


def test_a_public_host_file_that_cannot_be_trusted_is_refused(session_factory, key, tmp_path,
                                                              verify):
    append(session_factory, 2)
    taken = checkpoint(session_factory, key, tmp_path)
    mirror = tmp_path / "mirror-checkpoints.jsonl"
    mirror.write_text("")
    code, _out, err = verify("--mirror-checkpoints", str(mirror))
    assert code == 2 and "署名付きチェックポイントが 1 件もありません" in err
    forged = {**taken.as_dict(), "count": taken.count + 5}
    mirror.write_text(json.dumps(forged) + "\n")
    code, _out, err = verify("--mirror-checkpoints", str(mirror))
    assert code == 2 and "公開ホストのチェックポイント" in err and ":1: signature" in err
    code, _out, err = verify("--mirror-checkpoints", str(tmp_path / "none.jsonl"))
    assert code == 2 and "not found" in err


def age(engine, key, tmp_path, counts):
    """Everything so far six years old, signed then at ``counts`` (the test's clock: the
    job signed these checkpoints in 2020)."""
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET at = :at"), {"at": OLD})
        rechain(conn)
    for count in counts:
        checkpoints.append_to_file(tmp_path / "checkpoints.jsonl", checkpoints.sign(
            count, hash_of(engine, count), OLD, key))


def test_the_monthly_prune_and_the_daily_checkpoint_still_pass(
        engine, session_factory, key, tmp_path, verify):
    append(session_factory, 6)
    age(engine, key, tmp_path, [3, 6])
    checkpoint(session_factory, key, tmp_path)          # today's, noted as record 7
    signed = checkpoints.read_file(tmp_path / "checkpoints.jsonl", [key.public_key])
    with transaction.manager:
        assert prune(get_tm_session(session_factory, transaction.manager), TEST_ACTOR, 1830,
                     tmp_path / "archive.jsonl", signed) == 6
    append(session_factory, 2)
    checkpoint(session_factory, key, tmp_path)
    code, out, err = verify()
    assert code == 0, err
    assert "agrees with 4 signed checkpoints" in out
    with session_factory() as dbsession:
        record = dbsession.scalars(select(AuditRecord).where(
            AuditRecord.action == "audit.prune")).one()
        assert json.loads(record.details)["anchor_at"] == "2020-01-01T09:00:00.000000Z"


def test_prune_never_cuts_at_a_checkpoint_younger_than_the_retention(
        engine, session_factory, key, tmp_path, verify):
    """Old records, but the only checkpoint among them signed recently: no cut (verify
    would refuse that start), however old the records."""
    append(session_factory, 4)
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET at = :at"), {"at": OLD})
        rechain(conn)
    young = checkpoints.sign(4, hash_of(engine, 4), writer.utcnow() - timedelta(days=1), key)
    with transaction.manager:
        assert prune(get_tm_session(session_factory, transaction.manager), TEST_ACTOR, 1830,
                     tmp_path / "archive.jsonl", [young]) == 0


def test_prune_refuses_a_shorter_retention_than_the_settings(db_url, tmp_path, key, capsys):
    config = tmp_path / "cli.ini"
    config.write_text(INI.format(url=db_url.replace("%", "%%")))
    (tmp_path / "checkpoints.jsonl").write_text("")
    code = cli.main(["-c", str(config), "audit", "prune", "--archive",
                     str(tmp_path / "a.jsonl"), "--days", "30", "--checkpoints",
                     str(tmp_path / "checkpoints.jsonl"), "--trusted-key",
                     str(tmp_path / "sign.pub")])
    err = capsys.readouterr().err
    assert code == 2 and "--days 30 は audit.retention_days（1830 日）より短い" in err


def test_a_chain_pruned_before_this_check_still_verifies(engine, session_factory, key,
                                                         tmp_path, verify):
    """The migration: an installation pruned by the earlier pruner has a prune record
    without ``anchor_at``, whose anchor was chosen by its records' times — its checkpoint
    may be signed up to a day after the cutoff. Such a chain verifies as it is; nothing is
    rewritten. A start younger than that is refused as any other."""
    append(session_factory, 4)
    anchor_at = writer.utcnow() - timedelta(days=1830) + timedelta(hours=20)
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET at = :at WHERE seq <= 4"),
                     {"at": anchor_at - timedelta(hours=1)})
        rechain(conn)
    anchor = hash_of(engine, 4)
    checkpoints.append_to_file(tmp_path / "checkpoints.jsonl",
                               checkpoints.sign(4, anchor, anchor_at, key))
    cut_start(engine, 4)
    with transaction.manager:   # exactly what the earlier pruner wrote
        writer.append(get_tm_session(session_factory, transaction.manager), TEST_ACTOR,
                      "audit.prune", "audit:1-4", records=4, through_seq=4, anchor_hash=anchor,
                      archive="audit-old.jsonl", archive_sha256="00" * 32)
    code, _out, err = verify()
    assert code == 0, err
    with insider(engine) as conn:   # a new-form record gets no such day: refused
        conn.execute(text("UPDATE audit_records SET details = :d WHERE action = 'audit.prune'"),
                     {"d": json.dumps({"through_seq": 4, "anchor_hash": anchor,
                                       "anchor_at": "2020-01-01T09:00:00.000000Z"})})
        rechain(conn)
    code, _out, err = verify()
    assert code == 1 and "保存期間 1830 日を過ぎていません" in err
