"""The machine being installed: its root (``/`` or a test tree), its accounts, its commands."""

import grp
import os
import pwd
import shutil
import subprocess
from pathlib import Path


class InstallError(Exception):
    """A step cannot be carried out; the message says which and why (in Japanese)."""


class Host:
    def __init__(self, root: Path = Path("/")):
        self.root = root.resolve()
        # Only a real root has running services, PostgreSQL, nginx, sshd and a firewall.
        self.live = self.root == Path("/")

    def path(self, absolute: str | Path) -> Path:
        return self.root / str(absolute).lstrip("/")

    def run(self, *command: str, input: str | None = None, check: bool = True,
            user: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        if user is not None:
            command = ("runuser", "-u", user, "--", *command)
        try:
            result = subprocess.run(command, capture_output=True, text=True, input=input,
                                    env={**os.environ, **(env or {})})
        except OSError as error:       # e.g. a venv moved away by hand: said, not a traceback
            raise InstallError(f"コマンドを実行できません: {' '.join(command)}: "
                               f"{error.strerror or error}") from None
        if check and result.returncode != 0:
            raise InstallError(f"コマンドが失敗しました（終了コード {result.returncode}）: "
                               f"{' '.join(command)}\n{result.stdout}{result.stderr}".rstrip())
        return result

    def has(self, program: str) -> bool:
        return shutil.which(program) is not None

    # Accounts: through NSS on a real host, from the tree's own files otherwise.
    def uid(self, user: str) -> int | None:
        return self._lookup("passwd", user, lambda name: pwd.getpwnam(name).pw_uid)

    def gid(self, group: str) -> int | None:
        return self._lookup("group", group, lambda name: grp.getgrnam(name).gr_gid)

    def _lookup(self, table: str, name: str, through_nss) -> int | None:
        if self.live:
            try:
                return through_nss(name)
            except KeyError:
                return None
        path = self.root / "etc" / table
        if not path.exists():
            return None
        for line in path.read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                return int(fields[2])
        return None

    def account_tool(self, tool: str, *args: str) -> None:
        """useradd / usermod / groupadd, on this root."""
        prefix = () if self.live else ("--root", str(self.root))
        self.run(tool, *prefix, *args)
