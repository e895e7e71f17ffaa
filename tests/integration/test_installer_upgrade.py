"""install.sh on a host that runs another version: a fresh venv per version, a backup with
the new version before anything switches, the link switched in one rename, migration,
verification, and everything put back when a step fails — on a directory tree (``--root``)
with the live operations (backup, restore, restarts, /healthz) played by a recorder.

The booted-hosts test (tests/e2e/test_upgrade.py) does the same on real hosts.
"""

import hashlib
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.integration.test_release_bundle import INTRANET_VALUES, new_root

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from shinsei_installer import __main__ as installer  # noqa: E402
from shinsei_installer import common, upgrade  # noqa: E402
from shinsei_installer.common import VENV, VENV_PREVIOUS, VENVS, Bundle  # noqa: E402
from shinsei_installer.host import Host, InstallError  # noqa: E402
from shinsei_installer.steps import Action, File  # noqa: E402

OLD, NEW = "0.1.0", "0.1.0+gnew0000001"
SITE_PACKAGES = "lib/python3.11/site-packages"
SETTING = "/etc/shinsei/upgrade-test.conf"


def fake_bundle(folder: Path, version: str) -> Bundle:
    """What the installer reads from a bundle: the pins (its version) and deploy/."""
    folder.mkdir(parents=True)
    (folder / "requirements").mkdir()
    for role, extras in (("intranet", "[intranet,postgresql]"), ("public", "")):
        (folder / "requirements" / f"{role}.txt").write_text(
            f"shinsei-status{extras}=={version} \\\n    --hash=sha256:{'0' * 64}\n")
    (folder / "wheelhouse").mkdir()
    shutil.copytree(ROOT / "deploy", folder / "deploy")
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}"
             for p in sorted(folder.rglob("*")) if p.is_file()]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return Bundle(folder)


def fake_venv(root: Path, venv: str, version: str) -> None:
    """A venv as the installer sees it from outside: its python and the project's dist-info."""
    folder = root / venv.lstrip("/")
    (folder / SITE_PACKAGES / f"shinsei_status-{version}.dist-info").mkdir(parents=True)
    (folder / "bin").mkdir(exist_ok=True)
    (folder / "bin" / "python").write_text("#!/bin/sh\n")
    (folder / "marker").write_text(version)


@pytest.fixture(autouse=True)
def venvs_without_pip(monkeypatch):
    """Making a venv is pip's work (the release-bundle test does it for real): here a venv
    is its dist-info, made in an instant."""
    def differences(host, bundle, role):
        return ([] if common.venv_version(host, bundle.venv(role)) == bundle.version(role)
                else [f"{bundle.venv(role)} を作る"])

    def make(host, bundle, role, venv):
        fake_venv(host.root, venv, bundle.version(role))

    monkeypatch.setattr(common, "venv_differences", differences)
    monkeypatch.setattr(common, "make_venv", make)


class Recorder(upgrade.Operations):
    """The live operations, recorded; ``fail`` names the ones that fail."""

    def __init__(self, host, fail=(), failed_units=()):
        super().__init__(host)
        self.calls, self.fail, self.units = [], set(fail), list(failed_units)
        self.version_of_link = lambda: common.venv_version(host, VENV)

    def _do(self, name, *details):
        self.calls.append((name, *details))
        if name in self.fail:
            raise InstallError(f"{name} が失敗しました（試験）")

    def stop(self, units):
        self._do("stop", units)

    def start(self, units):
        self._do("start", units)

    def restart(self, units):
        self._do("restart", units)

    def backup(self, venv):
        self._do("backup", venv, common.link_target(self.host, VENV)
                 if self.host.path(VENV).is_symlink() else "real folder")
        backup_set = self.host.path("/var/backups/shinsei/sets/20260101-0000")
        backup_set.mkdir(parents=True, exist_ok=True)
        return "/var/backups/shinsei/sets/20260101-0000"

    def restore(self, venv, backup_set):
        self._do("restore", venv, backup_set)

    def audit_verify(self):
        self._do("audit_verify")

    def health(self, role):
        self.calls.append(("health", role))
        if "health" in self.fail:
            return {"version": OLD, "status": "ok"}
        return {"version": self.version_of_link(), "status": "ok"}

    def failed_units(self):
        return self.units

    def wait(self, seconds):
        self.calls.append(("wait",))


class Migration:
    """The database step as the plan has it: runs the new venv's migrations, or fails."""

    def __init__(self, fails=False):
        self.fails, self.ran_with, self.done = fails, None, False

    def step(self):
        return Action("database", lambda host: [] if self.done else ["スキーマを 0011 から 0012 にする"],
                      self.run)

    def run(self, host):
        self.ran_with = common.venv_version(host, VENV)
        if self.fails:
            raise InstallError("コマンドが失敗しました（終了コード 1）: shinsei-intranet initdb")
        self.done = True


def old_installer_host(tmp_path) -> Host:
    """A host the earlier installer made: /opt/shinsei/venv a real folder, a setting file."""
    root = new_root(tmp_path / "root")
    fake_venv(root, VENV, OLD)
    setting = root / SETTING.lstrip("/")
    setting.parent.mkdir(parents=True, exist_ok=True)
    setting.write_text("old\n")
    setting.chmod(0o640)
    return Host(root)


def plan(bundle, migration, role="intranet"):
    return [*common.venv_steps(bundle, role, ("shinsei-intranet",), ("intranet",)),
            File(SETTING, b"new\n", mode=0o644), migration.step()]


def run(host, bundle, steps, ops, role="intranet", apps=("shinsei-intranet-web.service",)):
    found = upgrade.detect(host, bundle, role, ops)
    installer.install(steps, host, apps, found)
    return found


def test_an_older_version_is_backed_up_then_switched_migrated_and_verified(tmp_path, capsys):
    host = old_installer_host(tmp_path)
    bundle = fake_bundle(tmp_path / "bundle", NEW)
    ops, migration = Recorder(host), Migration()
    found = run(host, bundle, plan(bundle, migration), ops)
    assert (found.old_version, found.new_version) == (OLD, NEW)
    # The backup is the new version's, taken while the old venv still served.
    assert ops.calls[0] == ("stop", upgrade.QUIESCE["intranet"])
    assert ops.calls[1] == ("backup", f"{VENVS}/{NEW}", "real folder")
    # Then the switch (the old folder kept among the versioned ones) and the migration by
    # the new version; then the checks.
    assert common.link_target(host, VENV) == f"{VENVS}/{NEW}"
    assert common.link_target(host, VENV_PREVIOUS) == f"{VENVS}/{OLD}"
    assert (host.path(f"{VENVS}/{OLD}") / "marker").read_text() == OLD
    assert migration.ran_with == NEW
    assert ("audit_verify",) in ops.calls and ("health", "intranet") in ops.calls
    assert "restore" not in [call[0] for call in ops.calls]
    assert host.path(SETTING).read_text() == "new\n"
    out = capsys.readouterr().out
    assert f"版上げ: {OLD} → {NEW}" in out and "バックアップ: /var/backups/shinsei/sets/" in out
    assert f"確認: {NEW} が動いています" in out
    # A second run finds nothing to do and is no upgrade.
    assert upgrade.detect(host, bundle, "intranet", ops) is None


def test_a_failed_migration_puts_the_old_venv_the_files_and_the_database_back(tmp_path):
    host = old_installer_host(tmp_path)
    bundle = fake_bundle(tmp_path / "bundle", NEW)
    ops, migration = Recorder(host), Migration(fails=True)
    with pytest.raises(upgrade.UpgradeFailed) as failed:
        run(host, bundle, plan(bundle, migration), ops)
    message = str(failed.value)
    assert failed.value.exit_code == 3
    assert migration.ran_with == NEW
    # Served by the old version again, its setting as it was (content and mode).
    assert common.venv_version(host, VENV) == OLD
    assert host.path(SETTING).read_text() == "old\n"
    assert host.path(SETTING).stat().st_mode & 0o777 == 0o640
    assert ("restore", f"{VENVS}/{NEW}", "/var/backups/shinsei/sets/20260101-0000") in ops.calls
    assert ("restart", ("shinsei-intranet-web.service",)) in ops.calls
    assert ("start", upgrade.QUIESCE["intranet"]) in ops.calls
    assert f"版上げ（{OLD} → {NEW}）に失敗したため、元に戻しました。" in message
    assert "失敗したこと: コマンドが失敗しました（終了コード 1）: shinsei-intranet initdb" in message
    assert f"戻したこと: {VENV} を {VENVS}/{OLD} に戻しました" in message
    assert "データベースをバックアップ /var/backups/shinsei/sets/20260101-0000 から戻しました" in message
    # The new venv stays for the next try; nothing was pruned.
    assert common.venv_version(host, f"{VENVS}/{NEW}") == NEW
    assert "audit_verify" not in [call[0] for call in ops.calls]


def test_a_failed_backup_switches_nothing(tmp_path):
    host = old_installer_host(tmp_path)
    bundle = fake_bundle(tmp_path / "bundle", NEW)
    ops, migration = Recorder(host, fail={"backup"}), Migration()
    with pytest.raises(upgrade.UpgradeFailed) as failed:
        run(host, bundle, plan(bundle, migration), ops)
    message = str(failed.value)
    assert "バックアップが取れなかったため、何も切り替えていません" in message
    assert "backup run: backup が失敗しました（試験）" in message
    venv = host.path(VENV)
    assert venv.is_dir() and not venv.is_symlink() and (venv / "marker").read_text() == OLD
    assert not host.path(VENV_PREVIOUS).exists()
    assert host.path(SETTING).read_text() == "old\n" and migration.ran_with is None
    assert ops.calls[-1] == ("start", upgrade.QUIESCE["intranet"])


@pytest.mark.parametrize("fail, units, said", [
    ({"audit_verify"}, (), "監査記録の検証"),
    ({"health"}, (), f"の版が {OLD} です（{NEW} のはず）"),
    ((), ("shinsei-transfer-sign.service",), "失敗したユニットがあります: shinsei-transfer-sign.service"),
])
def test_a_failed_check_after_the_restart_rolls_back(tmp_path, fail, units, said):
    host = old_installer_host(tmp_path)
    bundle = fake_bundle(tmp_path / "bundle", NEW)
    ops = Recorder(host, fail=fail, failed_units=units)
    with pytest.raises(upgrade.UpgradeFailed) as failed:
        run(host, bundle, plan(bundle, Migration()), ops)
    assert said in str(failed.value) and "元に戻しました" in str(failed.value)
    assert common.venv_version(host, VENV) == OLD
    assert ("restore", f"{VENVS}/{NEW}", "/var/backups/shinsei/sets/20260101-0000") in ops.calls


def test_a_public_host_that_stops_serving_after_the_switch_goes_back(tmp_path):
    host = old_installer_host(tmp_path)
    bundle = fake_bundle(tmp_path / "bundle", NEW)

    class StopsServing(Recorder):
        def health(self, role):
            version = self.version_of_link()
            return {"version": version, "status": "ok" if version == OLD else "broken",
                    "problem": "lookup fails: KeyError"}

    ops = StopsServing(host)
    steps = [*common.venv_steps(bundle, "public", ("shinsei-mirror",), ("public_mirror",))]
    with pytest.raises(upgrade.UpgradeFailed) as failed:
        run(host, bundle, steps, ops, role="public", apps=("shinsei-mirror-web.service",))
    assert "版上げ前は住民に答えていましたが、今は broken" in str(failed.value)
    assert common.venv_version(host, VENV) == OLD
    assert "backup" not in [call[0] for call in ops.calls]
    assert ("restart", ("shinsei-mirror-web.service",)) in ops.calls


def test_only_the_venv_in_use_and_the_previous_one_are_kept(tmp_path, capsys):
    host = old_installer_host(tmp_path)
    versions = ["0.1.0+gsecond0001", "0.1.0+gthird00001", "0.1.0+gfourth0001"]
    for number, version in enumerate(versions):
        bundle = fake_bundle(tmp_path / f"bundle-{number}", version)
        run(host, bundle, plan(bundle, Migration()), Recorder(host))
    assert sorted(p.name for p in host.path(VENVS).iterdir()) == sorted(versions[1:])
    assert common.link_target(host, VENV) == f"{VENVS}/{versions[2]}"
    assert common.link_target(host, VENV_PREVIOUS) == f"{VENVS}/{versions[1]}"
    assert f"削除: {VENVS}/{versions[0]}" in capsys.readouterr().out


def test_a_first_install_is_no_upgrade_and_makes_the_link(tmp_path):
    host = Host(new_root(tmp_path / "root"))
    bundle = fake_bundle(tmp_path / "bundle", NEW)
    assert upgrade.detect(host, bundle, "intranet") is None
    installer.install(plan(bundle, Migration()), host, ())
    assert common.link_target(host, VENV) == f"{VENVS}/{NEW}"
    assert os.readlink(host.path(VENV)) == f"venvs/{NEW}"      # the same under --root
    assert not host.path(VENV_PREVIOUS).exists()


# --- --check on a half-installed host -------------------------------------------------------

def check(tmp_path, root, bundle):
    config = tmp_path / "site.env"
    config.write_text(INTRANET_VALUES)
    return installer.main(["--role", "intranet", "--check", "--root", str(root), "--config",
                           str(config), "--bundle", str(bundle.root)])


@pytest.mark.parametrize("half", ["venv moved away", "link to a removed venv", "venv without python"])
def test_check_on_a_half_installed_host_reports_and_never_crashes(tmp_path, capsys, half):
    root = new_root(tmp_path / "root")
    bundle = fake_bundle(tmp_path / "bundle", NEW)
    fake_venv(root, VENV, OLD)
    if half == "venv moved away":
        os.rename(root / VENV.lstrip("/"), root / "opt/shinsei/venv.moved-by-hand")
    elif half == "link to a removed venv":
        shutil.rmtree(root / VENV.lstrip("/"))
        (root / VENV.lstrip("/")).symlink_to(f"{VENVS}/0.0.9")
    else:
        (root / VENV.lstrip("/") / "bin" / "python").unlink()
    assert check(tmp_path, root, bundle) == 1
    out = capsys.readouterr().out
    assert f"{VENVS}/{NEW} を作る" in out and "違いがあります" in out
    assert "Traceback" not in out


def test_check_names_a_pending_upgrade_and_a_step_it_cannot_read(tmp_path, capsys, monkeypatch):
    root = new_root(tmp_path / "root")
    bundle = fake_bundle(tmp_path / "bundle", NEW)
    fake_venv(root, VENV, OLD)

    def unreadable(self, host):
        raise PermissionError(13, "Permission denied", "/etc/shinsei/intranet.ini")

    monkeypatch.setattr(File, "notes", unreadable)
    assert check(tmp_path, root, bundle) == 1
    out = capsys.readouterr().out
    assert f"版上げ: {OLD} → {NEW}" in out
    assert "確かめられません（[Errno 13] Permission denied: '/etc/shinsei/intranet.ini'）" in out
    assert os.path.isdir(root / VENV.lstrip("/")) and not os.path.islink(root / VENV.lstrip("/"))


def test_a_command_that_is_not_there_is_said_not_a_traceback(tmp_path):
    with pytest.raises(InstallError, match="コマンドを実行できません: /opt/shinsei/venv/bin/python"):
        Host(tmp_path).run("/opt/shinsei/venv/bin/python", "-c", "pass")


@pytest.mark.parametrize("output", [
    "セットを作りました\n/var/backups/shinsei/2026-01-01T000000\n",
    "データベース: 1,234 バイト\n"
    "確かめました: /var/backups/shinsei/2026-01-01T000000 のすべてのファイルが空でなく\n",
])
def test_the_backup_set_is_read_off_the_commands_last_line(tmp_path, output):
    host = Host(tmp_path)
    (tmp_path / "var/backups/shinsei/2026-01-01T000000").mkdir(parents=True)
    assert upgrade.backup_set_named(host, output) == "/var/backups/shinsei/2026-01-01T000000"
    assert upgrade.backup_set_named(host, output + "/var/backups/shinsei/missing\n") is None
    assert upgrade.backup_set_named(host, "") is None


def test_a_failed_commands_traceback_is_left_to_the_record(tmp_path):
    host = old_installer_host(tmp_path)
    bundle = fake_bundle(tmp_path / "bundle", NEW)

    class Traceback(Migration):
        def run(self, host):
            raise InstallError("コマンドが失敗しました（終了コード 1）: shinsei-intranet initdb\n"
                               "Traceback (most recent call last):\n"
                               '  File "x.py", line 1, in <module>\n    upgrade()\n'
                               "sqlalchemy.exc.ProgrammingError: relation \"ix\" already exists\n"
                               "[SQL: CREATE INDEX ix ON audit_records (at, seq)]")

    with pytest.raises(upgrade.UpgradeFailed) as failed:
        run(host, bundle, plan(bundle, Traceback()), Recorder(host))
    message = str(failed.value)
    assert "Traceback" not in message and 'File "x.py"' not in message
    assert ("失敗したこと: コマンドが失敗しました（終了コード 1）: shinsei-intranet initdb\n"
            'sqlalchemy.exc.ProgrammingError: relation "ix" already exists\n'
            "[SQL: CREATE INDEX ix ON audit_records (at, seq)]") in message
    record = message.rsplit("全文の記録: ", 1)[1].strip()
    kept = host.path(record).read_text()
    assert record.startswith("/var/log/shinsei-upgrade-") and 'File "x.py", line 1' in kept
    assert "戻したこと:" in kept
