"""What monitoring reads: the last run's outcome (``last-run.json``, 0644 in the backup
directory: times, a path and a reason, no secret) and the newest set's age, as JSON.

- ``ok``: the last run made a set, and the newest set is younger than ``backup.max_age_hours``
- ``failed``: the last run failed (``reason`` says which file and why)
- ``stale``: no set yet, or the newest is too old (the timer did not run)
"""

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from intranet.backups import sets
from intranet.backups.errors import BackupError
from intranet.backups.settings import BackupSettings
from transfer.files import write_atomically

RECORD = "last-run.json"


def record(directory: Path, at: datetime, made: Path | None, reason: str | None) -> None:
    """The outcome of the run that started ``at``; a record that cannot be written (a full
    disk) is said on stderr by the caller, the run's own error stays the one reported."""
    entry = {"ok": reason is None, "at": _iso(at), "set": str(made) if made else None,
             "reason": reason}
    path = directory / RECORD
    write_atomically(path, (json.dumps(entry, ensure_ascii=False) + "\n").encode())
    os.chmod(path, 0o644)


def report(options: BackupSettings, now: datetime) -> dict:
    found = sets.complete(options.directory)
    newest = found[-1] if found else None
    made = sets.made_at(newest.name) if newest else None
    last_run = _last_run(options.directory)
    answer = {"status": "ok", "last_set": str(newest) if newest else None,
              "at": _iso(made) if made else None, "reason": None,
              "last_run": last_run.get("at")}
    if last_run.get("ok") is False:
        answer.update(status="failed", reason=last_run.get("reason") or "（理由の記録なし）")
    elif made is None:
        answer.update(status="stale", reason=f"{options.directory} にバックアップがまだありません")
    elif now - made > timedelta(hours=options.max_age_hours):
        hours = int((now - made).total_seconds() // 3600)
        answer.update(status="stale", reason=f"最新のバックアップは {hours} 時間前のものです"
                                             f"（backup.max_age_hours = {options.max_age_hours}）")
    return answer


def _last_run(directory: Path) -> dict:
    path = directory / RECORD
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} を読めません（{error}）") from None
    return entry if isinstance(entry, dict) else {}


def _iso(at: datetime) -> str:
    return at.astimezone().isoformat(timespec="seconds")
