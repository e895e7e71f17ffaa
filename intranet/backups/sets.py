"""A backup set's layout and its check.

``<directory>/<YYYY-MM-DDTHHMMSS>/`` (a suffix ``-2``, ``-3`` … when two runs share a second):

- ``database.pgdump`` or ``database.sqlite3`` — the database (``intranet.backups.database``)
- ``etc-shinsei.tar`` — ``backup.config_directory`` (``/etc/shinsei``), owners by name
- ``host-files.tar`` — ``backup.host_files`` (the TLS certificate and key), paths from ``/``
- ``audit-checkpoints.jsonl`` — the signed audit checkpoints (absent while there are none)
- ``manifest.json`` — what the set holds and where each part goes back to
- ``SHA256SUMS`` — every other file's SHA-256, in ``sha256sum -c`` form

A set being written is ``.incomplete-<name>``; only a checked set gets its name.
"""

import hashlib
import json
import os
import pwd
import re
import stat
import tarfile
from datetime import datetime
from pathlib import Path

from intranet.backups import database
from intranet.backups.errors import BackupError, from_os_error

FORMAT = "shinsei-backup-set/1"
NAME_FORMAT = "%Y-%m-%dT%H%M%S"
NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{6})(?:-[0-9]+)?$")
INCOMPLETE = ".incomplete-"
SUMS, MANIFEST = "SHA256SUMS", "manifest.json"
CONFIG, HOST_FILES, CHECKPOINTS = "etc-shinsei.tar", "host-files.tar", "audit-checkpoints.jsonl"


def made_at(name: str) -> datetime | None:
    """The local time a set's name says it was made (None: not a set's name)."""
    found = NAME.match(name)
    return datetime.strptime(found.group(1), NAME_FORMAT) if found else None


def complete(directory: Path) -> list[Path]:
    """The sets in ``directory``, oldest first (by the time in their names)."""
    if not directory.is_dir():
        return []
    found = [(made_at(entry.name), entry.name, entry) for entry in directory.iterdir()
             if made_at(entry.name) and entry.is_dir()]
    return [entry for _, _, entry in sorted(found)]


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def write_private(path: Path, data: bytes) -> None:
    """A new file, 0600 from its first byte, synced."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def write_sums(folder: Path) -> None:
    lines = [f"{digest(path)}  {path.name}\n" for path in sorted(folder.iterdir())
             if path.name != SUMS]
    write_private(folder / SUMS, "".join(lines).encode())


def verify(folder: Path) -> dict:
    """Everything a set must be, read back from the disk; its manifest. Raises BackupError
    naming the first file that is not as it must be, and why."""
    try:
        return _verify(folder)
    except OSError as error:
        raise from_os_error(error, f"{folder} を確かめられません") from None


def _verify(folder: Path) -> dict:
    if not folder.is_dir():
        raise BackupError(f"{folder}: バックアップのセット（ディレクトリ）がありません")
    _check_private(folder, 0o700)
    listed = _read_sums(folder)
    present = {path.name for path in folder.iterdir()} - {SUMS}
    extra = sorted(present - set(listed))
    if extra:
        raise BackupError(f"{folder / extra[0]}: {SUMS} に載っていないファイルです")
    for name, expected in listed.items():
        path = folder / name
        if not path.is_file():
            raise BackupError(f"{path}: ありません（{SUMS} に載っています）")
        _check_private(path, 0o600)
        if path.stat().st_size == 0:
            raise BackupError(f"{path}: 空（0 バイト）です")
        if digest(path) != expected:
            raise BackupError(f"{path}: SHA-256 が {SUMS} と違います（壊れているか変えられています）")
    manifest = _read_manifest(folder)
    tars = [manifest["config"]["file"], (manifest.get("host_files") or {}).get("file")]
    for name in filter(None, (manifest["database"]["file"], *tars,
                              (manifest.get("checkpoints") or {}).get("file"))):
        if name not in listed:
            raise BackupError(f"{folder / name}: {MANIFEST} に書かれていますが、ありません")
    database.check(manifest["database"]["engine"], folder / manifest["database"]["file"])
    for name in filter(None, tars):
        _check_tar(folder / name)
    return manifest


def _check_private(path: Path, mode: int) -> None:
    info = path.lstat()
    if stat.S_IMODE(info.st_mode) != mode or info.st_uid != os.geteuid():
        raise BackupError(f"{path}: 所有者とモードが {_owner(os.geteuid())} の {mode:04o} ではありません"
                          f"（{_owner(info.st_uid)} の {stat.S_IMODE(info.st_mode):04o}）")


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _read_sums(folder: Path) -> dict[str, str]:
    path = folder / SUMS
    if not path.is_file() or path.stat().st_size == 0:
        raise BackupError(f"{path}: ありません（書き終わらなかったセットです）")
    listed = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = re.fullmatch(r"([0-9a-f]{64})  ([\w.-]+)", line)
        if not found or found.group(2) == SUMS:
            raise BackupError(f"{path}:{number}: SHA-256 の行ではありません")
        listed[found.group(2)] = found.group(1)
    return listed


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        kind = manifest["format"]
        parts = [manifest["database"]["engine"], manifest["database"]["file"],
                 manifest["config"]["file"]]
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{path}: 読めません（{error!r}）") from None
    if kind != FORMAT or not all(isinstance(part, str) for part in parts):
        raise BackupError(f"{path}: このシステムのバックアップの目録ではありません（{kind!r}）")
    return manifest


def _check_tar(path: Path) -> None:
    try:
        with tarfile.open(path) as archive:
            if not archive.getmembers():
                raise BackupError(f"{path}: 中身がありません")
    except tarfile.TarError as error:
        raise BackupError(f"{path}: tar として読めません（{error}）") from None
