"""Which sets a successful run removes: those older than ``backup.retention_days``, never the
newest one and never the one just made."""

from datetime import datetime, timedelta

from intranet.backups.sets import made_at


def expired(names: list[str], now: datetime, days: int, keep: str = "") -> list[str]:
    dated = sorted((when, name) for name in names if (when := made_at(name)) is not None)
    if not dated:
        return []
    newest = dated[-1][1]
    cutoff = now - timedelta(days=days)
    return [name for when, name in dated if when < cutoff and name not in (newest, keep)]
