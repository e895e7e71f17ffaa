"""External commands a backup or restore runs (pg_dump, pg_restore, systemctl, the audit
check), possibly as another OS user, each failure a BackupError with what the command said."""

import os
import pwd
import shutil
import subprocess

from intranet.backups.errors import BackupError

TIMEOUT = 6 * 3600      # a dump of millions of rows takes minutes; a hung one is a failure


def as_user(name: str) -> dict:
    """subprocess arguments that run a command as OS user ``name`` with only its own group
    (root drops to it; the same user, or none named, changes nothing)."""
    if not name or name == pwd.getpwuid(os.geteuid()).pw_name:
        return {}
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise BackupError(f"OS ユーザー {name} がこのホストにいません") from None
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [],
            "env": {**os.environ, "HOME": account.pw_dir, "USER": name, "LOGNAME": name}}


def program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} が見つかりません（PostgreSQL のクライアントを入れてください）")
    return found


def run(command: list[str], what: str, *, user: str = "", env: dict | None = None,
        **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; a non-zero exit is a BackupError naming ``what`` and the last lines
    the command wrote to stderr."""
    options = as_user(user)
    if env is not None:
        options["env"] = {**options.get("env", os.environ), **env}
    try:
        result = subprocess.run(command, stdout=kwargs.pop("stdout", subprocess.PIPE),
                                stderr=subprocess.PIPE, cwd="/", timeout=TIMEOUT,
                                **options, **kwargs)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what}: {TIMEOUT // 3600} 時間たっても終わりません") from None
    if result.returncode != 0:
        said = _last_lines(result.stderr)
        raise BackupError(f"{what}: {os.path.basename(command[0])} が失敗しました"
                          f"（終了コード {result.returncode}）{': ' + said if said else ''}")
    return result


def _last_lines(stderr, count=3) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else (stderr or "")
    return " / ".join(line.strip() for line in text.strip().splitlines()[-count:])
