"""Desired states. Each step says what differs from it (``differences``) and reaches it
(``apply``); a step whose differences are empty is left alone, which is what makes a
second run change nothing. A step may name handlers (reload nginx, restart a service)
that run once, after every step, when it changed something."""

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from shinsei_installer.host import Host, InstallError


class Step:
    handlers: tuple[str, ...] = ()

    def differences(self, host: Host) -> list[str]:
        raise NotImplementedError

    def notes(self, host: Host) -> list[str]:
        """What is worth knowing but is not to be changed (e.g. a kept config file)."""
        return []

    def unresolved(self, host: Host) -> list[str]:
        """What differs from the wanted state but is the city's to change (e.g. a setting in
        an earlier version's shape holding its own value): a difference for ``--check``, a
        note for an install, which leaves it as it is."""
        return []

    def apply(self, host: Host) -> None:
        raise NotImplementedError


@dataclass
class Group(Step):
    name: str

    def differences(self, host):
        return [] if host.gid(self.name) is not None else [f"グループ {self.name} を作る"]

    def apply(self, host):
        host.account_tool("groupadd", "--system", self.name)


@dataclass
class User(Step):
    """A system account with no password and no shell; ``groups``: extra groups."""
    name: str
    home: str = "/nonexistent"
    groups: tuple[str, ...] = ()

    def differences(self, host):
        if host.uid(self.name) is None:
            return [f"OS ユーザー {self.name} を作る"]
        missing = [g for g in self.groups if self.name not in _members(host, g)]
        return [f"OS ユーザー {self.name} をグループ {', '.join(missing)} に入れる"] if missing else []

    def apply(self, host):
        if host.uid(self.name) is None:
            group = ("-g", self.name) if host.gid(self.name) is not None else ("--user-group",)
            host.account_tool("useradd", "--system", *group, "--no-create-home",
                              "--home-dir", self.home, "--shell", "/usr/sbin/nologin", self.name)
            # "*": no password, yet not "locked" ("!"), which would stop sshd's key logins.
            host.account_tool("usermod", "-p", "*", self.name)
        for group in self.groups:
            if self.name not in _members(host, group):
                host.account_tool("usermod", "-a", "-G", group, self.name)


def _members(host: Host, group: str) -> list[str]:
    for line in host.path("/etc/group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == group:
            return [m for m in fields[3].split(",") if m]
    return []


@dataclass
class Owned(Step):
    """What files and directories share: an owner, a group and a mode."""
    path: str
    owner: str = "root"
    group: str = "root"
    mode: int = 0o644

    def _ids(self, host):
        uid, gid = host.uid(self.owner), host.gid(self.group)
        return uid, gid

    def ownership_differences(self, host) -> list[str]:
        target = host.path(self.path)
        info = target.lstat()
        out = []
        uid, gid = self._ids(host)
        if (info.st_uid, info.st_gid) != (uid, gid):
            out.append(f"{self.path}: 所有者を {self.owner}:{self.group} にする")
        if stat.S_IMODE(info.st_mode) != self.mode:
            out.append(f"{self.path}: モードを {self.mode:04o} にする"
                       f"（今は {stat.S_IMODE(info.st_mode):04o}）")
        return out

    def fix_ownership(self, host):
        target = host.path(self.path)
        uid, gid = self._ids(host)
        if uid is None or gid is None:
            raise InstallError(f"{self.path}: {self.owner}:{self.group} がこのホストにいません")
        os.chown(target, uid, gid, follow_symlinks=False)
        os.chmod(target, self.mode)


@dataclass
class Directory(Owned):
    mode: int = 0o755

    def differences(self, host):
        target = host.path(self.path)
        if not target.is_dir():
            return [f"{self.path}/ を作る（{self.owner}:{self.group} {self.mode:04o}）"]
        return self.ownership_differences(host)

    def apply(self, host):
        host.path(self.path).mkdir(parents=True, exist_ok=True)
        self.fix_ownership(host)


class File(Owned):
    """A file with known content. ``keep``: the city's file once written — created when
    absent, never overwritten (a differing content is reported as a note)."""

    def __init__(self, path: str, content: Callable[[], bytes] | bytes = b"", owner="root",
                 group="root", mode=0o644, keep=False, handlers: tuple[str, ...] = ()):
        super().__init__(path, owner, group, mode)
        self.content, self.keep, self.handlers = content, keep, handlers

    def _wanted(self) -> bytes:
        return self.content() if callable(self.content) else self.content

    def differences(self, host):
        target = host.path(self.path)
        if not target.exists():
            return [f"{self.path} を作る（{self.owner}:{self.group} {self.mode:04o}）"]
        out = []
        if not self.keep and target.read_bytes() != self._wanted():
            out.append(f"{self.path}: 内容を更新する")
        return out + self.ownership_differences(host)

    def notes(self, host):
        target = host.path(self.path)
        if self.keep and target.exists() and not callable(self.content) \
                and target.read_bytes() != self.content:
            return [f"{self.path}: テンプレートと違う内容です（上書きしません）"]
        return []

    def apply(self, host):
        target = host.path(self.path)
        if not target.exists() or (not self.keep and target.read_bytes() != self._wanted()):
            target.parent.mkdir(parents=True, exist_ok=True)
            # Written under a temporary name with its final mode, then renamed: a secret
            # is never readable by others, not even for a moment.
            temporary = target.with_name(f".{target.name}.install")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(self._wanted())
            os.replace(temporary, target)
        self.fix_ownership(host)


@dataclass
class Symlink(Step):
    path: str
    target: str

    def differences(self, host):
        link = host.path(self.path)
        if link.is_symlink() and os.readlink(link) == self.target:
            return []
        return [f"{self.path} → {self.target} のリンクを張る"]

    def apply(self, host):
        link = host.path(self.path)
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(self.target)


@dataclass
class Absent(Step):
    """A file that must not be there (e.g. Debian's default nginx site on the public host)."""
    path: str
    why: str
    handlers: tuple[str, ...] = field(default=())

    def differences(self, host):
        link = host.path(self.path)
        return [f"{self.path} を外す（{self.why}）"] if (link.exists() or link.is_symlink()) else []

    def apply(self, host):
        host.path(self.path).unlink()


@dataclass
class Action(Step):
    """A state only a command can tell and reach (the venv's packages, the database, units)."""
    what: str
    check: Callable[[Host], list[str]]
    do: Callable[[Host], None]
    live_only: bool = False
    handlers: tuple[str, ...] = field(default=())

    def differences(self, host):
        if self.live_only and not host.live:
            return []
        return self.check(host)

    def notes(self, host):
        return [f"{self.what}: --root では行いません"] if self.live_only and not host.live else []

    def apply(self, host):
        self.do(host)


@dataclass
class Note(Step):
    """Something the administrator should read that changes nothing (e.g. a value naming a
    file that is not there, and what is done instead); ``text`` None: nothing to say."""
    text: Callable[[Host], str | None]

    def differences(self, host):
        return []

    def notes(self, host):
        said = self.text(host)
        return [said] if said else []

    def apply(self, host):
        pass


@dataclass
class Existing(Owned):
    """A file another step makes (e.g. a key from ``shinsei-transfer keygen``): only its
    owner and mode are this step's."""
    mode: int = 0o600

    def differences(self, host):
        return self.ownership_differences(host) if host.path(self.path).exists() else []

    def apply(self, host):
        if host.path(self.path).exists():
            self.fix_ownership(host)
