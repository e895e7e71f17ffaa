"""The set's files besides the database, packed by a run and put back by a restore: trees as
tars (``/etc/shinsei``, the host files; owners by name, modes kept) and the signed checkpoint
file (whole lines; put back with its owner, the current one kept aside when it differs)."""

import grp
import os
import pwd
import stat
import tarfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path, PurePosixPath

from intranet.backups import sets
from intranet.backups.errors import BackupError, from_os_error

# Python ≥ 3.11.4 takes extractall(filter=…) (and 3.14 filters by default); Debian 12 has 3.11.2.
TAR_FILTERS = hasattr(tarfile, "fully_trusted_filter")
_NOT_KEPT = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWGRP | stat.S_IWOTH


def copy_checkpoints(path: Path | None, work: Path) -> dict | None:
    """The signed checkpoints, whole lines only (the signer may be appending one)."""
    if path is None:
        return None
    try:
        data, info = path.read_bytes(), path.stat()
    except FileNotFoundError:
        raise BackupError(f"{path}: 署名付きチェックポイントのファイル（audit.checkpoint_file）"
                          "がありません") from None
    data = _whole_lines(data)
    count = _count_lines(data)
    if count:
        sets.write_private(work / sets.CHECKPOINTS, data)
    return {"path": str(path), "file": sets.CHECKPOINTS if count else None, "count": count,
            "owner": _name(pwd.getpwuid, info.st_uid), "group": _name(grp.getgrgid, info.st_gid),
            "mode": f"{info.st_mode & 0o7777:04o}"}


def checkpoints_grew(path: Path | None, copied: dict | None) -> bool:
    """Whether the file holds more whole lines now than the set took (the signer appended)."""
    if path is None or copied is None:
        return False
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False            # the next run names the missing file
    return _count_lines(_whole_lines(data)) != copied["count"]


def _whole_lines(data: bytes) -> bytes:
    return data[:data.rfind(b"\n") + 1]


def _count_lines(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if line.strip())


def pack_config(directory: Path, target: Path) -> dict:
    """The tree as ``tar -C DIR -cf - .`` makes it: owners by name, modes kept."""
    if not directory.is_dir():
        raise BackupError(f"{directory}: 設定のディレクトリ（backup.config_directory）がありません")
    known_hosts = {}
    with _private_tar(target) as archive:
        archive.add(directory, arcname=".")
        for member in archive.getmembers():
            if member.isfile() and member.name.endswith("/known_hosts"):
                lines = (directory / member.name).read_text(errors="replace").splitlines()
                known_hosts[member.name.removeprefix("./")] = sum(
                    1 for line in lines if line.strip() and not line.startswith("#"))
        files = sum(1 for member in archive.getmembers() if member.isfile())
    return {"directory": str(directory), "file": sets.CONFIG, "files": files,
            "known_hosts": known_hosts}


def pack_host_files(paths: tuple[Path, ...], target: Path) -> dict | None:
    """Files outside the tree (the TLS certificate and key), named from ``/``."""
    if not paths:
        return None
    for path in paths:
        if not path.is_absolute() or not path.is_file():
            raise BackupError(f"{path}: ファイルがありません（backup.host_files）")
    with _private_tar(target) as archive:
        for path in paths:
            archive.add(path, arcname=str(path).lstrip("/"))
    return {"file": sets.HOST_FILES, "paths": [str(path) for path in paths]}


@contextmanager
def _private_tar(target: Path):
    """A new tar, 0600 from its first byte, owners by name, synced when closed."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        with tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as archive:
            yield archive
        stream.flush()
        os.fsync(stream.fileno())


def unpack(tar: Path, directory: Path) -> None:
    """A packed tree (or the host files, into ``/``) back where it was; as root, owners by
    name. What the set could not have written is refused first (``_checked``)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar) as archive:
            # S202: every member is checked by _checked, the "tar" filter's rules, since
            # Debian 12's Python (3.11.2) has no filter argument.
            members = _checked(archive, tar)
            if TAR_FILTERS:
                archive.extractall(directory, members=members, filter="fully_trusted")  # noqa: S202
            else:
                archive.extractall(directory, members=members)  # noqa: S202
    except OSError as error:
        raise from_os_error(error, f"{tar.name} を {directory} に戻せません") from None
    except tarfile.TarError as error:
        raise BackupError(f"{tar.name} を {directory} に戻せません（{error}）") from None


def _checked(archive: tarfile.TarFile, tar: Path) -> list[tarfile.TarInfo]:
    """The members as tarfile's "tar" filter would pass them (which Debian 12's Python lacks):
    files, folders and links inside the tree only, no setuid bits, no group or other write."""
    members = archive.getmembers()
    for member in members:
        name = PurePosixPath(member.name)
        inside = not name.is_absolute() and ".." not in name.parts
        if member.issym():
            target = PurePosixPath(member.linkname)
            inside = inside and not target.is_absolute() \
                and ".." not in PurePosixPath(os.path.normpath(name.parent / target)).parts
        elif member.islnk():
            target = PurePosixPath(member.linkname)
            inside = inside and not target.is_absolute() and ".." not in target.parts
        elif not (member.isfile() or member.isdir()):
            inside = False
        if not inside:
            raise BackupError(f"{tar.name}: {member.name} はこのセットが書くはずのないものです"
                              "（外を指す名前・リンク、または特殊ファイル）")
        member.mode &= ~_NOT_KEPT
    return members


def restore_checkpoints(folder: Path, kept: dict | None, target: Path | None, say) -> None:
    """The set's checkpoints (``kept``: the manifest's entry) become ``target`` (this host's
    ``audit.checkpoint_file``); what it held, if different, stays beside it."""
    if kept is None:
        return
    target = target or Path(kept["path"])
    try:
        data = (folder / kept["file"]).read_bytes() if kept["file"] else b""
        current = target.read_bytes() if target.exists() else b""
        if current == data:
            say(f"{target}: セットと同じ内容です（署名付きチェックポイント {kept['count']} 件）")
            return
        if current.strip():
            aside = target.with_name(f"{target.name}.before-restore-"
                                     f"{datetime.now():%Y%m%dT%H%M%S}")
            os.link(target, aside)
            say(f"{target} のいまの内容は {aside} に残しました")
        _replace(target, data, kept)
    except OSError as error:
        raise from_os_error(error, f"{target} を戻せません") from None
    say(f"{target} を戻しました（署名付きチェックポイント {kept['count']} 件）")


def _replace(target: Path, data: bytes, kept: dict) -> None:
    """``target`` becomes ``data`` in one rename, with the owner (by name) and mode the
    backup saw, or the current file's owner where that name is not on this host."""
    current = target.stat() if target.exists() else None
    uid = _id(pwd.getpwnam, kept.get("owner"), current.st_uid if current else os.geteuid())
    gid = _id(grp.getgrnam, kept.get("group"), current.st_gid if current else os.getegid())
    temporary = target.with_name(f".{target.name}.restore")
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chown(temporary, uid, gid)
        os.chmod(temporary, int(kept.get("mode") or "0644", 8))
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _id(lookup, name: str | None, fallback: int) -> int:
    try:
        return lookup(name)[2] if name else fallback
    except KeyError:
        return fallback


def _name(lookup, number: int) -> str:
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)
