"""Settings an earlier bundle installed, brought forward to what this version needs.

install.sh writes each ini once and never overwrites it (the city's values live there), so a
host installed from an earlier bundle keeps that bundle's shape through an upgrade. Where the
runbook now relies on a newer shape, the old shape is changed here, one setting at a time:

- a key setting that named one file now names the key folder (signer.ini, pusher.ini,
  mirror.ini): a key rotation puts the next key beside the old one and edits no ini
  (docs/runbook "鍵の生成・配布・更新");
- a setting the old template did not have is added with the template's value and comment
  (intranet.ini ``backup.*``: the TLS certificate and key in each backup set;
  mirror.ini ``mirror.maintenance_file``: the maintenance page of the leak procedure).

A setting is changed only while it holds exactly the earlier template's value and the new
value means the same keys today: a value the city wrote itself is never rewritten, it is
reported (``--check`` counts it as a difference). Each changed file keeps its old content
beside it (``<name>.bak-<time>``) and the change is said in Japanese.
"""

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shinsei_installer import render
from shinsei_installer.host import Host
from shinsei_installer.steps import Step

SETTING = re.compile(r"^([A-Za-z0-9_.-]+)\s*[=:]\s?(.*)$")
SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


@dataclass(frozen=True)
class Renamed:
    """``key`` held ``old`` (an earlier template's value) and now holds ``new``;
    ``same(host)`` says whether ``new`` names the same keys as ``old`` on this host today."""
    key: str
    old: str
    new: str
    why: str
    same: Callable[[Host], bool]


@dataclass(frozen=True)
class Added:
    """``key`` was not in the earlier template: added with the current template's line."""
    key: str
    why: str


def read_settings(text: str, section: str) -> dict[str, tuple[int, str]]:
    """{key: (line index, value)} of one section, as configparser would read it (a value
    continued on indented lines is joined with spaces, which is how key lists are read)."""
    found: dict[str, tuple[int, str]] = {}
    current, last = None, None
    for index, line in enumerate(text.splitlines()):
        header = SECTION.match(line)
        if header:
            current, last = header.group(1), None
            continue
        if current != section or not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        if line[:1].isspace() and last is not None:
            at, value = found[last]
            found[last] = (at, f"{value} {line.strip()}".strip())
            continue
        match = SETTING.match(line)
        if match:
            last = match.group(1)
            found[last] = (index, match.group(2).strip())
    return found


def _words(value: str) -> str:
    return " ".join(value.split())


class BringForward(Step):
    """One installed ini: its old-shape settings changed (``apply``), or named when they hold
    the city's own value (``unresolved``)."""

    def __init__(self, path: str, section: str, template: Path, values: dict,
                 renamed: tuple[Renamed, ...] = (), added: tuple[Added, ...] = (),
                 handlers: tuple[str, ...] = ()):
        self.path, self.section, self.template, self.values = path, section, template, values
        self.renamed, self.added, self.handlers = renamed, added, handlers

    def _text(self, host: Host) -> str | None:
        target = host.path(self.path)
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def _plan(self, host: Host) -> tuple[list[Renamed], list[Added], list[str]]:
        """(settings to rename, settings to add, old-shape settings left as the city wrote
        them, in words)."""
        text = self._text(host)
        if text is None:                   # not installed yet: the File step writes it
            return [], [], []
        settings = read_settings(text, self.section)
        renames, kept = [], []
        for rule in self.renamed:
            if rule.key not in settings:
                continue
            value = _words(settings[rule.key][1])
            if set(rule.new.split()) <= set(value.split()):
                continue                    # today's shape (perhaps with more the city added)
            if value == _words(rule.old):
                if rule.same(host):
                    renames.append(rule)
                else:
                    kept.append(f"{self.path}: {rule.key} = {value} は以前の版の形ですが、"
                                f"{rule.new} にある鍵が今の値の鍵と同じではないため書き換えません"
                                f"（{rule.why}。鍵を確かめて {rule.new} にしてください）")
            elif rule.old in value.split():
                kept.append(f"{self.path}: {rule.key} = {value} は以前の版の形です。自治体が"
                            f"書き換えた値のため書き換えません（{rule.why}。{rule.new} に"
                            "してください）")
        additions = [rule for rule in self.added if rule.key not in settings]
        return renames, additions, kept

    def differences(self, host):
        renames, additions, _kept = self._plan(host)
        out = [f"{self.path}: {rule.key} = {rule.old} を {rule.new} にする（以前の版の形。"
               f"{rule.why}）" for rule in renames]
        out += [f"{self.path}: {rule.key} がありません。テンプレートの値"
                f"（{self._template_line(rule.key)[-1].split('=', 1)[1].strip() or '空'}）で"
                f"加える（以前の版の形。{rule.why}）" for rule in additions]
        return out

    def unresolved(self, host):
        return self._plan(host)[2]

    def notes(self, host):
        return []

    def apply(self, host):
        renames, additions, _kept = self._plan(host)
        if not renames and not additions:
            return
        text = self._text(host)
        assert text is not None
        lines = text.splitlines(keepends=True)
        settings = read_settings(text, self.section)
        for rule in renames:
            index = settings[rule.key][0]
            ending = "\n" if lines[index].endswith("\n") else ""
            lines[index] = f"{rule.key} = {rule.new}{ending}"
            lines[index + 1:_continued_end(lines, index + 1)] = []
        if additions:
            block = ["\n"]
            for rule in additions:
                block += [line + "\n" for line in self._template_line(rule.key)]
            at = _section_end(lines, self.section)
            if at and not lines[at - 1].endswith("\n"):
                lines[at - 1] += "\n"
            lines[at:at] = block
        kept = keep_copy(host, self.path)
        _replace(host.path(self.path), "".join(lines))
        print(f"  設定: {self.path} を今の版の形にしました（元の内容は {kept}）")

    def _template_line(self, key: str) -> list[str]:
        """The current template's line for ``key``, with the comment lines just above it."""
        lines = render.render(self.template, self.values).splitlines()
        for index, line in enumerate(lines):
            match = SETTING.match(line)
            if match and match.group(1) == key:
                start = index
                while start > 0 and lines[start - 1].startswith("#"):
                    start -= 1
                return lines[start:index + 1]
        raise KeyError(f"{self.template}: {key} がありません")


def _continued_end(lines: list[str], start: int) -> int:
    end = start
    while end < len(lines) and lines[end][:1] in (" ", "\t") and lines[end].strip():
        end += 1
    return end


def _section_end(lines: list[str], section: str) -> int:
    """Where lines go at the end of ``section``: after its last setting or comment, before
    the blank lines that lead to the next section."""
    inside, last = False, len(lines)
    for index, line in enumerate(lines):
        header = SECTION.match(line.rstrip("\n"))
        if header:
            if inside:
                break
            inside = header.group(1) == section
            last = index + 1
            continue
        if inside and line.strip():
            last = index + 1
    return last


def keep_copy(host: Host, path: str) -> str:
    """The file as it was, beside it with its owner and mode: ``<name>.bak-<time>``; one
    copy only, when an earlier run (an upgrade that was put back) kept the same content."""
    source = host.path(path)
    for earlier in sorted(source.parent.glob(f"{source.name}.bak-*")):
        if earlier.read_bytes() == source.read_bytes():
            return f"{path.rsplit('/', 1)[0]}/{earlier.name}"
    name = f"{path}.bak-{time.strftime('%Y%m%dT%H%M%S')}"
    while host.path(name).exists():
        name += "-1"
    shutil.copy2(source, host.path(name))
    info = source.stat()
    os.chown(host.path(name), info.st_uid, info.st_gid)
    return name


def _replace(target: Path, text: str) -> None:
    """Written under a temporary name with the file's owner and mode, then renamed."""
    info = target.stat()
    temporary = target.with_name(f".{target.name}.forward")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chown(temporary, info.st_uid, info.st_gid)
    os.chmod(temporary, info.st_mode & 0o7777)
    os.replace(temporary, target)


# --- what "the same keys today" means for each key setting ----------------------------------

def key_files(host: Host, folder: str, pattern: str) -> list[Path]:
    found = host.path(folder)
    return sorted(found.glob(pattern)) if found.is_dir() else []


def only_file_in(folder: str, name: str, pattern: str) -> Callable[[Host], bool]:
    """The folder holds that one key and no other (so naming the folder signs with it)."""
    def same(host: Host) -> bool:
        return [p.name for p in key_files(host, folder, pattern)] == [name]
    return same


def same_public_key(old_file: str, folder: str, made_from: str) -> Callable[[Host], bool]:
    """Every ``*.pub`` the folder holds (or will hold: this install copies ``made_from``
    there) is the one key the old file holds."""
    def same(host: Host) -> bool:
        old = host.path(old_file)
        if not old.is_file():
            return False
        held = {p.read_bytes() for p in key_files(host, folder, "*.pub")}
        if host.path(made_from).is_file():
            held.add(host.path(made_from).read_bytes())
        return held == {old.read_bytes()}
    return same


def nothing_in(folder: str, pattern: str) -> Callable[[Host], bool]:
    def same(host: Host) -> bool:
        return not key_files(host, folder, pattern)
    return same
