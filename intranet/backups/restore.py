"""A set back onto this host (after ``install.sh --role intranet`` with the same values file):
the set checked first (SHA256SUMS, every part readable), then ``/etc/shinsei`` (owners by
name, so a fresh host's own account numbers are used), the signed checkpoint file, the
database (the staff app stopped meanwhile), and last the audit chain verified against every
signed checkpoint the file now holds.

``database_only``: the database alone (the upgrade's way back, whose set was taken minutes
before; the keys and checkpoints on the host are the current ones).
"""

import re
import sys
from contextlib import contextmanager
from pathlib import Path

from intranet.backups import database, parts, processes, sets
from intranet.backups.errors import BackupError
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
        parts.unpack(folder / manifest["config"]["file"], options.config_directory)
        say(f"{options.config_directory} を戻しました（{manifest['config']['files']} ファイル）")
        if manifest.get("host_files"):
            parts.unpack(folder / manifest["host_files"]["file"], Path("/"))
            say(f"{' '.join(manifest['host_files']['paths'])} を戻しました")
        parts.restore_checkpoints(folder, manifest.get("checkpoints"), options.checkpoint_file, say)
    with _stopped(options.web_service, say):
        database.restore(options.database_url, options.database_user,
                         folder / manifest["database"]["file"])
        say("データベースを戻しました")
    _verify_audit(options, ini, say)
    say("このセットより後に承認した廃棄があれば、その廃棄記録ごとに disposal reapply を"
        "実行してください（運用手順書「事業の終了・保存・廃棄」7.）")


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
