"""One backup run: a new set, checked, named; then retention; the outcome recorded for
``backup status``.

Order inside a set: the checkpoint file first, then ``/etc/shinsei``, then the database, so
every signed checkpoint in the set counts records the dump holds. The signer appends a
checkpoint to the file before the recorder notes it in the chain, so if the file grew while
the set was written, the dump may note a checkpoint the set's file lacks (``audit verify``
then calls the set truncated): the set is written again, a few times at most.
One run at a time (a lock in the directory); what an interrupted run left
(``.incomplete-*``) is removed by the next.
"""

import fcntl
import json
import os
import shutil
import socket
import sys
from contextlib import contextmanager
from datetime import datetime
from importlib import metadata
from pathlib import Path

from intranet.backups import database, parts, retention, sets, status
from intranet.backups.errors import BackupError, from_os_error
from intranet.backups.settings import BackupSettings
from transfer.files import sync_directory

LOCK = ".lock"


def run(options: BackupSettings, now: datetime | None = None, say=print) -> Path:
    """Make one set in ``options.directory``; returns its path. Whatever fails is raised as
    BackupError after the failure was recorded for ``backup status``."""
    now = now or datetime.now()
    made = None
    try:
        made = make_set(options, now, say)
        _remove_expired(options, now, made, say)
    except BackupError as error:
        _record(options.directory, now, made, str(error))
        raise
    except Exception as error:
        _record(options.directory, now, made, f"予期しないエラー: {error!r}")
        raise
    _record(options.directory, now, made, None)
    say(str(made))      # the last line: what a caller (the upgrade, a script) reads
    return made


def _remove_expired(options: BackupSettings, now: datetime, made: Path, say) -> None:
    names = [path.name for path in sets.complete(options.directory)]
    for name in retention.expired(names, now, options.retention_days, keep=made.name):
        with _failing_as(f"保存期間を過ぎたセット {options.directory / name} を消せません"):
            shutil.rmtree(options.directory / name)
        say(f"保存期間（{options.retention_days} 日）を過ぎたセットを消しました: "
            f"{options.directory / name}")


def make_set(options: BackupSettings, now: datetime, say=print) -> Path:
    directory = options.directory
    with _failing_as(f"{directory} にセットを作れません"):
        directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        with _failing_as(f"{directory} の書きかけのセットを消せません"):
            for leftover in directory.glob(f"{sets.INCOMPLETE}*"):
                shutil.rmtree(leftover)
        name = _free_name(directory, now)
        work = directory / f"{sets.INCOMPLETE}{name}"
        try:
            with _failing_as(f"{work} を作れません"):
                work.mkdir(mode=0o700)
                os.chmod(work, 0o700)      # whatever the umask
            manifest = _write_contents(options, work, now)
            sets.verify(work)
            final = directory / name
            with _failing_as(f"{work} を {final} にできません"):
                os.rename(work, final)
                sync_directory(directory)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    _summarise(manifest, final, say)
    return final


ATTEMPTS = 3


def _write_contents(options: BackupSettings, work: Path, now: datetime) -> dict:
    for _ in range(ATTEMPTS):
        for written in work.iterdir():       # an earlier attempt's parts
            written.unlink()
        manifest = _write_once(options, work, now)
        if not parts.checkpoints_grew(options.checkpoint_file, manifest["checkpoints"]):
            return manifest
    raise BackupError(f"{options.checkpoint_file}: 署名付きチェックポイントがバックアップ中に"
                      f"書き足され続けました（{ATTEMPTS} 回）。公開の処理が終わってから"
                      "もう一度実行してください")


def _write_once(options: BackupSettings, work: Path, now: datetime) -> dict:
    with _failing_as(f"{sets.CHECKPOINTS} を作れません"):
        checkpoints = parts.copy_checkpoints(options.checkpoint_file, work)
    with _failing_as(f"{sets.CONFIG} を作れません"):
        config = parts.pack_config(options.config_directory, work / sets.CONFIG)
    with _failing_as(f"{sets.HOST_FILES} を作れません"):
        host_files = parts.pack_host_files(options.host_files, work / sets.HOST_FILES)
    engine = database.engine_of(options.database_url)
    with _failing_as(f"{database.FILES[engine]} を作れません"):
        database.dump(options.database_url, options.database_user, work / database.FILES[engine])
    manifest = {
        "format": sets.FORMAT,
        "created_at": now.astimezone().isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "version": _version(),
        "database": {"engine": engine, "file": database.FILES[engine],
                     "bytes": (work / database.FILES[engine]).stat().st_size},
        "config": config,
        "host_files": host_files,
        "checkpoints": checkpoints,
    }
    with _failing_as(f"{sets.MANIFEST} と {sets.SUMS} を作れません"):
        sets.write_private(work / sets.MANIFEST,
                           json.dumps(manifest, ensure_ascii=False, indent=2).encode() + b"\n")
        sets.write_sums(work)
    return manifest


def _summarise(manifest: dict, final: Path, say) -> None:
    config, checkpoints = manifest["config"], manifest["checkpoints"]
    hosts = "、".join(f"{name} {count} 行" for name, count in config["known_hosts"].items())
    say(f"データベース（{manifest['database']['engine']}）: {manifest['database']['bytes']:,} バイト")
    say(f"{config['directory']}: {config['files']} ファイル"
        + (f"（公開ホストの鍵: {hosts}）" if hosts else ""))
    if manifest["host_files"]:
        say(f"ほかのファイル: {' '.join(manifest['host_files']['paths'])}")
    if checkpoints is not None:
        say(f"署名付きチェックポイント: {checkpoints['count']} 件（{checkpoints['path']}）")
    say(f"確かめました: {final} のすべてのファイルが空でなく、SHA256SUMS と一致し、"
        "ダンプを最後まで読めます")


def _record(directory: Path, now: datetime, made: Path | None, reason: str | None) -> None:
    try:
        status.record(directory, now, made, reason)
    except OSError as error:
        print(f"注: 実行結果を {directory / status.RECORD} に書けません（{error.strerror}）",
              file=sys.stderr)


def _free_name(directory: Path, now: datetime) -> str:
    base = now.strftime(sets.NAME_FORMAT)
    name, number = base, 1
    while (directory / name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


@contextmanager
def _failing_as(what: str):
    try:
        yield
    except OSError as error:
        raise from_os_error(error, what) from None


@contextmanager
def _locked(directory: Path):
    with _failing_as(f"{directory / LOCK} を作れません"):
        descriptor = os.open(directory / LOCK, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"{directory}: 別のバックアップが実行中です") from None
        yield
    finally:
        os.close(descriptor)


def _version() -> str:
    try:
        return metadata.version("shinsei-status")
    except metadata.PackageNotFoundError:
        return "unknown"
