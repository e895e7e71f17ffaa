"""A set back onto this host (after ``install.sh --role intranet`` with the same values file):
the set checked first (SHA256SUMS, every part readable), then ``/etc/shinsei`` (owners by
name, so a fresh host's own account numbers are used), the signed checkpoint file, the
database (the staff app stopped meanwhile), and last the audit chain verified against every
signed checkpoint the file now holds.

``database_only``: the database alone (the upgrade's way back, whose set was taken minutes
before; the keys and checkpoints on the host are the current ones).
"""

import grp
import os
import pwd
import re
import sys
import tarfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from intranet.backups import database, processes, sets
from intranet.backups.errors import BackupError, from_os_error
from intranet.backups.settings import BackupSettings

AGREES = re.compile(r"agrees with (\d+) signed checkpoints")


def restore(options: BackupSettings, folder: Path, ini: Path, database_only: bool = False,
            say=print) -> None:
    manifest = sets.verify(folder)
    say(f"セットを確かめました: {folder}（{manifest['created_at']}、{manifest['host']}、"
        f"版 {manifest['version']}）")
    engine = database.engine_of(options.database_url)
    if manifest["database"]["engine"] != engine:
        raise BackupError(f"{folder}: {manifest['database']['engine']} のバックアップです。"
                          f"このホストのデータベースは {engine} です")
    if not database_only:
        _unpack(folder / manifest["config"]["file"], options.config_directory)
        say(f"{options.config_directory} を戻しました（{manifest['config']['files']} ファイル）")
        if manifest.get("host_files"):
            _unpack(folder / manifest["host_files"]["file"], Path("/"))
            say(f"{' '.join(manifest['host_files']['paths'])} を戻しました")
        _restore_checkpoints(folder, manifest.get("checkpoints"), options.checkpoint_file, say)
    with _stopped(options.web_service, say):
        database.restore(options.database_url, options.database_user,
                         folder / manifest["database"]["file"])
        say("データベースを戻しました")
    _verify_audit(options, ini, say)
    say("このセットより後に承認した廃棄があれば、その廃棄記録ごとに disposal reapply を"
        "実行してください（運用手順書「事業の終了・保存・廃棄」7.）")


def _unpack(tar: Path, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar) as archive:
            # "tar": no absolute names, no "..", no links out of the tree, no setuid bits;
            # as root, owners are set by name.
            archive.extractall(directory, filter="tar")
    except OSError as error:
        raise from_os_error(error, f"{tar.name} を {directory} に戻せません") from None
    except tarfile.TarError as error:
        raise BackupError(f"{tar.name} を {directory} に戻せません（{error}）") from None


def _restore_checkpoints(folder: Path, kept: dict | None, target: Path | None, say) -> None:
    if kept is None:
        return
    target = target or Path(kept["path"])
    data = (folder / kept["file"]).read_bytes() if kept["file"] else b""
    try:
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


@contextmanager
def _stopped(service: str, say):
    """The staff app stopped while the database is replaced, started again whatever happened
    (a failed pg_restore changed nothing: it runs in one transaction)."""
    if not service:
        yield
        return
    processes.run(["systemctl", "stop", service], f"{service} を止められません")
    try:
        yield
    finally:
        processes.run(["systemctl", "start", service], f"{service} を起動できません")
        say(f"{service} を起動しました")


def _verify_audit(options: BackupSettings, ini: Path, say) -> None:
    """``audit verify`` as the staff app's OS user (the role peer authentication admits),
    held to every signed checkpoint in the file."""
    result = processes.run([sys.executable, "-m", "intranet.cli", "-c", str(ini.resolve()),
                            "audit", "verify"],
                           "復元したデータベースの監査ログを検査できません（または一致しません）",
                           user=options.verify_user)
    output = result.stdout.decode("utf-8", "replace").strip()
    expected = _count(options.checkpoint_file)
    agreed = AGREES.search(output)
    if expected and (agreed is None or int(agreed.group(1)) != expected):
        raise BackupError(f"監査ログの検査は署名付きチェックポイント "
                          f"{agreed.group(1) if agreed else 0} 件と照合しましたが、"
                          f"{options.checkpoint_file} には {expected} 件あります")
    for line in output.splitlines():
        say(f"  {line}")
    say("監査ログの連鎖を検査しました: " + (f"署名付きチェックポイント {expected} 件すべてと一致します"
                                        if expected else "署名付きチェックポイントはありません"))


def _count(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    return sum(1 for line in path.read_bytes().splitlines() if line.strip())
