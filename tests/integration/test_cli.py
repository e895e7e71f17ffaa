"""The ``shinsei-intranet`` command, run for real against SQLite and PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from lab.intranet_ini import INI
from tests.tampering import insider


@pytest.fixture
def cli(db_url, tmp_path):
    config = tmp_path / "cli.ini"
    config.write_text(INI.format(url=db_url.replace("%", "%%")))

    def run(*args, stdin=None):
        command = [str(Path(sys.executable).parent / "shinsei-intranet"), "-c", str(config), *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=120)

    return run


def test_initdb_is_idempotent(cli):
    assert cli("initdb").returncode == 0
    assert cli("initdb").returncode == 0


def test_user_lifecycle(cli):
    added = cli("user", "add", "kanri", "--role", "admin", "--password-stdin",
                stdin="a long enough password\n")
    assert added.returncode == 0, added.stderr
    weak = cli("user", "add", "kansa", "--role", "security_officer", "--password-stdin",
               stdin="short\n")
    assert weak.returncode == 2 and "12" in weak.stderr
    assert cli("user", "passwd", "kanri", "--password-stdin",
               stdin="another long password\n").returncode == 0
    assert cli("user", "disable", "kanri").returncode == 0
    missing = cli("user", "disable", "nobody")
    assert missing.returncode == 2 and "nobody" in missing.stderr


def test_the_command_line_makes_only_the_first_admin_and_officer(cli, engine):
    """Bootstrap only: an account that reads applicant data, a second administrator, or a
    chosen password for a data-reading account take the screens and a second person."""
    for role in ("admin", "security_officer"):
        made = cli("user", "add", f"first-{role}", "--role", role, "--password-stdin",
                   stdin="a long enough password\n")
        assert made.returncode == 0, made.stderr
        again = cli("user", "add", f"second-{role}", "--role", role, "--password-stdin",
                    stdin="a long enough password\n")
        assert again.returncode == 2 and f"（first-{role}）がすでにあります" in again.stderr
    for role in ("staff", "supervisor", "inquiry"):
        refused = cli("user", "add", "kage", "--role", role, "--password-stdin",
                      stdin="a long enough password\n")
        assert refused.returncode == 2 and "管理者とセキュリティ担当だけ" in refused.stderr
        assert "Traceback" not in refused.stderr
    with insider(engine) as conn:   # a data-reading account made on the screens earlier
        conn.execute(text("UPDATE users SET role = 'supervisor' WHERE username = 'first-admin'"))
    refused = cli("user", "passwd", "first-admin", "--password-stdin",
                  stdin="a chosen password 2026\n")
    assert refused.returncode == 2 and "管理者とセキュリティ担当だけ" in refused.stderr
    # Once the first officer is disabled (gone), the next one can be made again.
    assert cli("user", "disable", "first-security_officer").returncode == 0
    assert cli("user", "add", "next-officer", "--role", "security_officer", "--password-stdin",
               stdin="a long enough password\n").returncode == 0


def test_audit_verify_passes_then_names_the_tampered_record(cli, engine):
    cli("user", "add", "suzuki", "--role", "admin", "--password-stdin",
        stdin="a long enough password\n")
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and "audit chain OK" in ok.stdout
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET details = '{}' WHERE seq = 2"))
    broken = cli("audit", "verify")
    assert broken.returncode == 1 and "record 2" in broken.stderr


def test_audit_verify_catches_a_deleted_record(cli, engine):
    cli("user", "add", "suzuki", "--role", "admin", "--password-stdin",
        stdin="a long enough password\n")
    with insider(engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 2"))
    broken = cli("audit", "verify")
    assert broken.returncode == 1 and "record 2 is missing" in broken.stderr


def test_audit_verify_takes_one_to_64_workers(cli):
    assert cli("audit", "verify", "--workers", "2").returncode == 0
    for bad in ("0", "two"):
        refused = cli("audit", "verify", "--workers", bad)
        assert refused.returncode == 2 and "a whole number from 1 to 64" in refused.stderr


def test_audit_verify_catches_reordering(cli, engine):
    cli("user", "add", "suzuki", "--role", "admin", "--password-stdin",
        stdin="a long enough password\n")
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET seq = -1 WHERE seq = 1"))
        conn.execute(text("UPDATE audit_records SET seq = 1 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_records SET seq = 2 WHERE seq = -1"))
    assert cli("audit", "verify").returncode == 1


def test_demo_seeds_and_prints_passwords(cli):
    result = cli("demo", "--applications", "200")
    assert result.returncode == 0, result.stderr
    assert "supervisor" in result.stdout and "security_officer" in result.stdout


def test_import_dry_run_then_import(cli, db_url, tmp_path, session_factory):
    from lab.import_files import encoded
    from tests.factories import make_programme

    make_programme(session_factory, code="p2020")
    source = tmp_path / "applicants.csv"
    source.write_bytes(encoded())
    dry = cli("import", str(source), "--programme", "p2020", "--dry-run")
    assert dry.returncode == 0 and "new 3" in dry.stdout and "imported" not in dry.stdout
    done = cli("import", str(source), "--programme", "p2020")
    assert done.returncode == 0 and "imported" in done.stdout
    again = cli("import", str(source), "--programme", "p2020", "--dry-run")
    assert "unchanged 3" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01binary")
    refused = cli("import", str(bad), "--programme", "p2020")
    assert refused.returncode == 1 and "バイナリ" in refused.stderr


def test_import_counts_errors_as_the_screen_does_and_a_bad_mapping_is_one_sentence(
        cli, tmp_path, session_factory):
    from lab.import_files import many_bad_rows
    from tests.factories import make_programme

    make_programme(session_factory, code="p2020")
    source = tmp_path / "applicants.csv"
    source.write_bytes(many_bad_rows(1200))
    dry = cli("import", str(source), "--programme", "p2020", "--dry-run")
    assert dry.returncode == 1 and "errors: 1,200 (0 shown one by one" in dry.stdout
    assert "1,200 rows (lines 2, 3, 4, 5, 6 …), 生年月日: e.g. '令和2年2月30日'" in dry.stdout
    assert "column 生年月日 -> 生年月日" in dry.stdout
    for content, message in [('{"x": "口座番号"', "JSON として読めません"),
                          ('{"お客様番号": "口座番号"}', "「口座番号」は取り込める項目ではありません"),
                          (None, "を読めません")]:
        mapping = tmp_path / "mapping.json"
        mapping.unlink(missing_ok=True)
        if content is not None:
            mapping.write_text(content, encoding="utf-8")
        result = cli("import", str(source), "--programme", "p2020", "--mapping", str(mapping))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    mapping.write_bytes("{\"氏名\": \"受付番号\"}".encode("cp932"))
    result = cli("import", str(source), "--programme", "p2020", "--mapping", str(mapping))
    assert result.returncode == 2 and "UTF-8 で保存してください" in result.stderr


@pytest.fixture
def signed(tmp_path):
    """A transfer key pair and the CLI arguments naming its checkpoints file and key."""
    from transfer.keys import generate_signing_key

    key = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.pub")
    return key, ["--checkpoints", str(tmp_path / "checkpoints.jsonl"),
                 "--trusted-key", str(tmp_path / "sign.pub")]


def test_audit_checkpoint_then_verify_catches_a_recomputed_chain(cli, engine, signed, tmp_path):
    from tests.tampering import rechain

    _key, arguments = signed
    cli("user", "add", "suzuki", "--role", "admin", "--password-stdin",
        stdin="a long enough password\n")
    taken = cli("audit", "checkpoint", "--signing-key", str(tmp_path / "sign.key"),
                "--checkpoints", arguments[1])
    assert taken.returncode == 0 and "checkpoint signed: 3 records" in taken.stdout
    ok = cli("audit", "verify", *arguments)
    assert ok.returncode == 0 and "agrees with 1 signed checkpoints" in ok.stdout
    unchecked = cli("audit", "verify")
    assert unchecked.returncode == 0 and "no signed checkpoints configured" in unchecked.stderr
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 3"))
        rechain(conn)
    assert cli("audit", "verify").returncode == 0          # the hole the checkpoints close
    broken = cli("audit", "verify", *arguments)
    assert broken.returncode == 1 and "recomputed" in broken.stderr


def test_audit_checkpoint_signs_with_the_key_the_signer_reads_a_folder_too(cli, tmp_path):
    """``transfer.signing_keys`` may name a folder of keys (the signer's own reading): the
    checkpoint is signed with its first key, as the snapshot's signer reads it; none there,
    a key others may read, or a file that is no key, is one sentence and exit 2."""
    from transfer.keys import generate_signing_key, key_id

    keys = tmp_path / "keys"
    keys.mkdir()
    first = generate_signing_key(keys / "2026-a.key", tmp_path / "a.pub")
    generate_signing_key(keys / "2026-b.key", tmp_path / "b.pub")
    config = tmp_path / "cli.ini"
    settings = config.read_text()

    def with_keys(named):
        config.write_text(settings.replace("[loggers]", f"transfer.signing_keys = {named}\n"
                                           "audit.checkpoint_file = "
                                           f"{tmp_path / 'checkpoints.jsonl'}\n\n[loggers]", 1))
        return cli("audit", "checkpoint")

    cli("initdb")
    taken = with_keys(keys)
    assert taken.returncode == 0, taken.stderr
    assert f"key {key_id(first.public_key)}" in taken.stdout
    (tmp_path / "empty").mkdir()
    (tmp_path / "not-a-key.key").write_bytes(b"not a key")
    (tmp_path / "not-a-key.key").chmod(0o600)
    for named, said in ((tmp_path / "empty", "署名鍵がありません"),
                        (tmp_path / "a.pub", "readable by group or others"),
                        (tmp_path / "not-a-key.key", "not a PEM private key")):
        refused = with_keys(named)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


def test_audit_prune_archives_old_records_and_the_chain_still_verifies(cli, engine, signed,
                                                                       tmp_path):
    from datetime import datetime

    from tests.tampering import rechain
    from transfer import checkpoints

    key, arguments = signed
    cli("user", "add", "suzuki", "--role", "admin", "--password-stdin",
        stdin="a long enough password\n")
    with insider(engine) as conn:   # the records so far are from six years ago
        conn.execute(text("UPDATE audit_records SET at = '2020-01-01 09:00:00'"))
        rechain(conn)
        head_hash = conn.execute(text("SELECT hash FROM audit_head")).scalar_one()
    # ... and so is the checkpoint the job signed then.
    checkpoints.append_to_file(tmp_path / "checkpoints.jsonl",
                               checkpoints.sign(3, head_hash, datetime(2020, 1, 1, 9), key))
    refused = cli("audit", "prune", "--archive", str(tmp_path / "a.jsonl"))
    assert refused.returncode == 2 and "signed checkpoint" in refused.stderr
    archive = tmp_path / "audit-2020.jsonl"
    pruned = cli("audit", "prune", "--archive", str(archive), *arguments)
    assert pruned.returncode == 0 and "archived 3 records" in pruned.stdout, pruned.stderr
    assert len(archive.read_text().splitlines()) == 3
    ok = cli("audit", "verify", *arguments)
    assert ok.returncode == 0, ok.stderr
    with insider(engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 4"))   # the prune's record
    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert "記録 1〜3 番がありませんが、削除を記録した audit.prune の記録がありません" in broken.stderr


def test_hostile_workbooks_are_refused_by_name_and_change_nothing(cli, tmp_path,
                                                                  session_factory):
    """Issue 25 item 4 through the command: the same refusals as the screen, exit 1, one
    Japanese sentence on stderr and no traceback; then a legitimate workbook imports."""
    from sqlalchemy import func, select

    from intranet.applications.models import Application
    from lab import hostile_workbooks as hostile
    from lab.import_files import HEADER, PEOPLE
    from tests.factories import make_programme
    from tests.functional.test_hostile_workbooks import ATTACKS

    make_programme(session_factory, code="p2020")
    for attack, (make, message) in ATTACKS.items():
        source = tmp_path / "申請者一覧.xlsx"
        source.write_bytes(make())
        result = cli("import", str(source), "--programme", "p2020")
        assert result.returncode == 1, (attack, result.stderr)
        assert "ファイル 申請者一覧.xlsx " in result.stderr and message in result.stderr, attack
        assert "Traceback" not in result.stderr
    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(Application)).scalar_one() == 0
    rows = [HEADER, *[[f"{70000000 + n}", *PEOPLE[0][1:]] for n in range(3000)]]
    source.write_bytes(hostile.workbook(hostile.sheet_xml(rows)))
    done = cli("import", str(source), "--programme", "p2020")
    assert done.returncode == 0 and "new 3000" in done.stdout, done.stderr
