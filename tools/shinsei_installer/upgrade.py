"""An upgrade: this bundle on a host that runs another version of shinsei-status.

The order, on the intranet host: the new version's venv is made beside the running one
(nothing served changes); the staff app and the publication's triggers stop; a backup is
taken with the NEW version's ``shinsei-intranet backup run`` (no backup, nothing switched);
then the ordinary steps run — ``/opt/shinsei/venv`` is switched in one rename, the schema
is migrated, units and configuration are written — the services restart, and the result is
verified: ``audit verify``, ``/healthz`` answering with the new version at the schema head,
no failed unit. On a public host the same without the backup and the migration; ``/healthz``
must answer with the new version (and still serve, if it served before).

If any of it fails, everything this run changed is put back: the link to the old venv, every
file it rewrote (kept in memory before each write), the database from the backup just taken,
and the services restarted; the message says in Japanese what failed and what was put back,
and install.sh exits 3. The new venv stays (a second run uses it again); after a verified
upgrade only the venv in use and the previous one are kept.
"""

import json
import os
import re
import shutil
import stat
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from shinsei_installer import common, forward
from shinsei_installer.common import ETC, VENV, VENV_PREVIOUS, VENVS, Bundle
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Absent, Action, File, Step, Symlink

INTRANET_INI = f"{ETC}/intranet.ini"
# Where each role's app answers /healthz on the host itself (deploy/*.ini: listen).
HEALTH = {"intranet": "http://127.0.0.1:6543/healthz", "public": "http://127.0.0.1:6544/healthz"}
# Stopped for the upgrade on the intranet host: nothing writes to the database between the
# backup and the switch (the unit steps and a rollback start them again).
# (shinsei-transfer-requested.path is not among them: an older version has no such unit to
# stop, and with the staff app stopped nothing touches its file.)
QUIESCE = {"intranet": ("shinsei-intranet-web.service", "shinsei-transfer-approved.path",
                        "shinsei-transfer.timer"),
           "public": ()}
# A failed unit among these after the upgrade fails it; others are only reported.
WATCHED = ("shinsei-", "nginx", "postgresql", "ssh")
HEALTH_WAIT = 90.0
# An absolute path inside a line of Japanese prose (ends at a space or a Japanese mark).
PATH = re.compile(r"/[^\s、。，,：:（）()「」]+")


class UpgradeFailed(InstallError):
    """The upgrade did not complete; the message says what failed and what was put back."""
    exit_code = 3


class Operations:
    """What an upgrade does on a running host, beyond the steps (tests replace it)."""

    def __init__(self, host: Host):
        self.host = host

    def stop(self, units: tuple[str, ...]) -> None:
        if units:
            self.host.run("systemctl", "stop", *units)

    def start(self, units: tuple[str, ...]) -> None:
        if units:
            self.host.run("systemctl", "start", *units, check=False)

    def restart(self, units: tuple[str, ...]) -> None:
        if units:
            self.host.run("systemctl", "restart", *units)

    def backup(self, venv: str) -> str:
        """A backup set made by the NEW version's command; its path is the last line."""
        result = self.host.run(f"{venv}/bin/shinsei-intranet", "-c", INTRANET_INI, "backup", "run")
        found = backup_set_named(self.host, result.stdout)
        if found is None:
            raise InstallError("バックアップのコマンドが、できたバックアップの場所を表示しませんでした:\n"
                               f"{result.stdout}{result.stderr}".rstrip())
        return found

    def restore(self, venv: str, backup_set: str) -> None:
        self.host.run(f"{venv}/bin/shinsei-intranet", "-c", INTRANET_INI, "backup", "restore",
                      backup_set, "--database-only")

    def audit_verify(self) -> None:
        self.host.run(f"{VENV}/bin/shinsei-intranet", "-c", INTRANET_INI, "audit", "verify",
                      user="shinsei-web")

    def health(self, role: str) -> dict | None:
        """The app's /healthz (any status code), or None when nothing answers."""
        request = urllib.request.Request(HEALTH[role], headers={"Host": "localhost"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (fixed http URL)
                return json.loads(answer.read())
        except urllib.error.HTTPError as answer:
            try:
                return json.loads(answer.read())
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def failed_units(self) -> list[str]:
        listed = self.host.run("systemctl", "--failed", "--no-legend", "--plain", check=False)
        return [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)


def backup_set_named(host: Host, output: str) -> str | None:
    """The set ``backup run`` made: its last line, or the folder that line names."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        return None
    for candidate in (lines[-1], *PATH.findall(lines[-1])):
        if candidate.startswith("/") and host.path(candidate).is_dir():
            return candidate.rstrip("/")
    return None


class Offline(Operations):
    """``--root``: no running services, no database, nothing to back up or to ask."""

    def stop(self, units):
        pass

    def start(self, units):
        pass

    def restart(self, units):
        pass

    def backup(self, venv):
        return ""

    def restore(self, venv, backup_set):
        pass

    def audit_verify(self):
        pass

    def health(self, role):
        return None

    def failed_units(self):
        return []


def operations(host: Host) -> Operations:
    return Operations(host) if host.live else Offline(host)


# --- what this run changed, to put back -------------------------------------------------

@dataclass
class Kept:
    """One path as it was before a step wrote it."""
    path: str
    kind: str                  # "file", "link", "absent", "other"
    content: bytes = b""
    target: str = ""
    mode: int = 0
    owner: tuple[int, int] = (0, 0)


@dataclass
class Journal:
    """The files and links this run rewrote, as they were before (in memory)."""
    kept: list[Kept] = field(default_factory=list)
    switched_from: str | None = None
    previous_link: Kept | None = None

    def keep(self, step: Step, host: Host) -> None:
        if isinstance(step, common.SwitchVenv):
            self.previous_link = _state(host, VENV_PREVIOUS)
            return
        if isinstance(step, File | Symlink | Absent | forward.BringForward):
            path = step.path
            if not any(k.path == path for k in self.kept):
                self.kept.append(_state(host, path))

    def switched(self, step: common.SwitchVenv) -> None:
        self.switched_from = step.previous

    def undo(self, host: Host) -> list[str]:
        """Put everything kept back, newest first; what was put back, in words."""
        done = []
        if self.switched_from:
            common.point(host, VENV, self.switched_from)
            if self.previous_link is not None:
                _put_back(host, self.previous_link)
            done.append(f"{VENV} を {self.switched_from} に戻しました")
        for kept in reversed(self.kept):
            _put_back(host, kept)
        if self.kept:
            done.append(f"書き換えた設定ファイル・リンク {len(self.kept)} 件を元に戻しました")
        return done


def _state(host: Host, path: str) -> Kept:
    target = host.path(path)
    if target.is_symlink():
        return Kept(path, "link", target=os.readlink(target))
    if not target.exists():
        return Kept(path, "absent")
    info = target.stat()
    if target.is_file():
        return Kept(path, "file", target.read_bytes(), mode=stat.S_IMODE(info.st_mode),
                    owner=(info.st_uid, info.st_gid))
    return Kept(path, "other")


def _put_back(host: Host, kept: Kept) -> None:
    target = host.path(kept.path)
    if kept.kind == "other":
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    if kept.kind == "link":
        target.symlink_to(kept.target)
    elif kept.kind == "file":
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(kept.content)
        os.chown(target, *kept.owner)
        os.chmod(target, kept.mode)


# --- the upgrade ---------------------------------------------------------------------------

@dataclass
class Upgrade:
    host: Host
    bundle: Bundle
    role: str
    old_venv: str
    old_version: str | None
    ops: Operations
    backup_set: str = ""
    served_before: bool = False
    stopped: tuple[str, ...] = ()

    @property
    def new_version(self) -> str:
        return self.bundle.version(self.role)

    @property
    def new_venv(self) -> str:
        return self.bundle.venv(self.role)

    def describe(self) -> str:
        return f"版上げ: {self.old_version or '不明な版'} → {self.new_version}"

    def prepare(self, steps: list[Step]) -> None:
        """The new venv beside the old one, then (intranet) the backup: until both are
        done, nothing the host serves has changed."""
        print(f"  {self.describe()}（{self.old_venv} は戻し用に残します）")
        for step in steps:
            if isinstance(step, Action) and step.what == "venv" and step.differences(self.host):
                print(f"  変更: {self.new_venv} に新しい版の venv を作る")
                step.apply(self.host)
        if self.role == "public":
            health = self.ops.health(self.role)
            self.served_before = bool(health and health.get("status") == "ok")
            return
        self.stopped = QUIESCE[self.role]
        self.ops.stop(self.stopped)
        try:
            self.backup_set = self.ops.backup(self.new_venv)
        except Exception as error:
            self.ops.start(self.stopped)
            raise UpgradeFailed(
                "版上げを中止しました: バックアップが取れなかったため、何も切り替えていません"
                f"（{VENV} は {self.old_venv}、{self.old_version or '不明な版'} のまま。"
                "止めたサービスは起動し直しました）。\n"
                f"  失敗したこと: {self.new_venv}/bin/shinsei-intranet backup run: {error}\n"
                "  バックアップの置き場所と容量を確かめてから、もう一度実行してください"
                "（docs/runbook.ja.md「バックアップ」）。") from error
        if self.backup_set:
            print(f"  バックアップ: {self.backup_set}")

    def verify(self) -> None:
        """After the restart: the new version answers, at the schema head, chain intact."""
        if isinstance(self.ops, Offline):
            return
        if self.role == "intranet":
            try:
                self.ops.audit_verify()
            except InstallError as error:
                raise InstallError(f"監査記録の検証（shinsei-intranet audit verify）: {error}") from None
        health = self._wait_for_health()
        problems = []
        if health is None:
            problems.append(f"{HEALTH[self.role]} が {HEALTH_WAIT:.0f} 秒たっても答えません")
        else:
            if health.get("version") != self.new_version:
                problems.append(f"{HEALTH[self.role]} の版が {health.get('version')} です"
                                f"（{self.new_version} のはず）")
            if self.role == "intranet" and health.get("status") != "ok":
                problems.append(f"{HEALTH[self.role]}: {health.get('status')}"
                                f" {health.get('problem') or ''}".rstrip())
            if self.role == "public" and self.served_before and health.get("status") != "ok":
                problems.append(f"{HEALTH[self.role]}: 版上げ前は住民に答えていましたが、今は "
                                f"{health.get('status')}（{health.get('problem') or ''}）です")
        failed = [unit for unit in self.ops.failed_units() if unit.startswith(WATCHED)]
        if failed:
            problems.append(f"失敗したユニットがあります: {', '.join(failed)}")
        if problems:
            raise InstallError("版上げ後の確認: " + "; ".join(problems))
        print(f"  確認: {self.new_version} が動いています"
              + ("（監査記録の連鎖も正常）" if self.role == "intranet" else ""))

    def _wait_for_health(self) -> dict | None:
        """The app restarting answers within HEALTH_WAIT seconds, asked once a second."""
        health = self.ops.health(self.role)
        for _ in range(int(HEALTH_WAIT)):
            if health is not None and health.get("version") == self.new_version and (
                    self.role != "intranet" or health.get("status") == "ok"):
                break
            self.ops.wait(1.0)
            health = self.ops.health(self.role)
        return health

    def roll_back(self, journal: Journal, pending: set[str], apps: tuple[str, ...],
                  error: BaseException) -> UpgradeFailed:
        """Everything this run changed put back; the error to stop with, in words."""
        done, failed = [], []
        try:
            done += journal.undo(self.host)
        except OSError as problem:
            failed.append(f"{VENV} と設定ファイルを戻せませんでした: {problem}")
        if self.backup_set:
            try:
                self.ops.stop(apps)
                self.ops.restore(self.new_venv, self.backup_set)
                done.append(f"データベースをバックアップ {self.backup_set} から戻しました")
            except Exception as problem:
                failed.append(f"データベースを戻せませんでした（バックアップ {self.backup_set}）: {problem}")
        run = common.handlers(self.host, apps) if self.host.live else {}
        for name in common.HANDLER_ORDER:
            if name in pending and name != "apps" and name in run:
                try:
                    run[name]()
                except Exception as problem:
                    failed.append(f"{name} を読み込み直せませんでした: {problem}")
        try:
            if self.host.live:
                self.host.run("systemctl", "daemon-reload")
            self.ops.restart(apps)
            self.ops.start(self.stopped)
            done.append(f"サービスを元の版で起動し直しました（{', '.join(apps)}）")
        except Exception as problem:
            failed.append(f"サービスを起動し直せませんでした: {problem}")
        lines = [f"版上げ（{self.old_version or '不明な版'} → {self.new_version}）に失敗したため、"
                 "元に戻しました。" if not failed else
                 f"版上げ（{self.old_version or '不明な版'} → {self.new_version}）に失敗し、"
                 "元に戻しきれませんでした。",
                 f"  失敗したこと: {in_short(str(error))}"]
        lines += [f"  戻したこと: {line}" for line in done]
        lines += [f"  戻せなかったこと: {line}" for line in failed]
        lines.append(f"  新しい版の venv {self.new_venv} は残してあります（もう一度実行すると使います）。")
        if failed:
            lines.append(f"  {VENV} と /var/backups/shinsei/ の状態を確かめてから、"
                         "もう一度実行してください。")
        record = self._record("\n".join([*lines, "", "--- 失敗したことの全文:", str(error)]))
        if record:
            lines.append(f"  全文の記録: {record}")
        return UpgradeFailed("\n".join(lines))

    def _record(self, text: str) -> str:
        """The whole account, with the failed command's full output, kept for whoever looks
        into it (the message itself stays short)."""
        path = f"/var/log/shinsei-upgrade-{time.strftime('%Y%m%dT%H%M%S')}.log"
        try:
            target = self.host.path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text + "\n", encoding="utf-8")
        except OSError:
            return ""
        return path


def in_short(text: str) -> str:
    """A failed command's output without its Python traceback: what came before it and the
    exception's own lines (the full text goes to the record)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if not starts:
        return text
    frames = [i for i, line in enumerate(lines) if i > starts[-1] and line[:1].isspace()]
    after = lines[(frames[-1] + 1) if frames else starts[-1] + 1:]
    return "\n".join([*lines[:starts[0]], *after])


def detect(host: Host, bundle: Bundle, role: str, ops: Operations | None = None) -> Upgrade | None:
    """An upgrade when ``/opt/shinsei/venv`` leads to a venv of another version."""
    live = common.live_venv(host)
    if live is None:
        return None
    path, version = live
    if version == bundle.version(role):
        return None
    return Upgrade(host, bundle, role, path, version, ops or operations(host))


def prune(host: Host) -> list[str]:
    """Every versioned venv but the one in use and the previous one removed."""
    folder = host.path(VENVS)
    if not folder.is_dir():
        return []
    keep = set()
    for link in (VENV, VENV_PREVIOUS):
        if host.path(link).is_symlink():
            keep.add(common.link_target(host, link))
    removed = []
    for venv in sorted(folder.iterdir()):
        if venv.is_dir() and f"{VENVS}/{venv.name}" not in keep:
            shutil.rmtree(venv)
            removed.append(f"{VENVS}/{venv.name}")
    return removed

