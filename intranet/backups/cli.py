"""``shinsei-intranet backup run|status|verify|restore`` (root, on the intranet host; the
daily run is shinsei-backup.service). Failures are one Japanese sentence naming the file and
why, and a non-zero exit."""

import json
import sys
from datetime import datetime
from pathlib import Path

from intranet.backups import make, restore, sets, status
from intranet.backups.errors import BackupError
from intranet.backups.settings import BackupSettings


def backup_run(ctx, args):
    options = _options(ctx, directory=args.to)
    try:
        make.run(options)
    except BackupError as error:
        return _failed("バックアップに失敗しました", error)
    return 0


def backup_status(ctx, args):
    try:
        answer = status.report(_options(ctx), datetime.now())
    except BackupError as error:
        answer = {"status": "failed", "last_set": None, "at": None, "reason": str(error)}
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0 if answer["status"] == "ok" else 1


def backup_verify(ctx, args):
    try:
        manifest = sets.verify(args.set)
    except BackupError as error:
        return _failed("このセットは使えません", error)
    checkpoints = manifest.get("checkpoints") or {}
    print(f"{args.set}: 使えます（{manifest['created_at']} に {manifest['host']} で作成、"
          f"データベース {manifest['database']['engine']}、{manifest['config']['directory']} "
          f"{manifest['config']['files']} ファイル、署名付きチェックポイント "
          f"{checkpoints.get('count', 0)} 件）")
    return 0


def backup_restore(ctx, args):
    try:
        restore.restore(_options(ctx), args.set, Path(args.config), args.database_only)
    except BackupError as error:
        return _failed("復元に失敗しました", error)
    return 0


def _options(ctx, directory: Path | None = None) -> BackupSettings:
    options = BackupSettings.from_settings(ctx.settings)
    if directory is not None:
        options = BackupSettings(**{**vars(options), "directory": directory})
    return options


def _failed(what: str, error: BackupError) -> int:
    print(f"{what}: {error}", file=sys.stderr)
    return 1


def add_commands(commands) -> None:
    backup = commands.add_parser("backup", help="backup sets of this host (root)") \
        .add_subparsers(required=True)
    run = backup.add_parser("run", help="make one verified set (database, /etc/shinsei, the "
                            "signed audit checkpoints), then remove sets past retention")
    run.add_argument("--to", type=Path, help="directory of sets (default: backup.directory)")
    run.set_defaults(command=backup_run)
    backup.add_parser("status", help="JSON for monitoring; exit 1 unless ok") \
        .set_defaults(command=backup_status)
    check = backup.add_parser("verify", help="check a set (e.g. a copy on other media)")
    check.add_argument("set", type=Path)
    check.set_defaults(command=backup_verify)
    back = backup.add_parser("restore", help="restore a set onto this host, then verify the "
                             "audit chain against every signed checkpoint")
    back.add_argument("set", type=Path)
    back.add_argument("--database-only", action="store_true",
                      help="the database alone (the upgrade's rollback)")
    back.set_defaults(command=backup_restore)
