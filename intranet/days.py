"""The Japan day of a stored moment, written in SQL for the database to count by.

Every timestamp column holds naive UTC; staff count by Japan's day (UTC+9 all year: Japan
keeps no summer time). A decision made at 08:30 in Tokyo is 23:30 UTC the day before, so a
count by the UTC date would put the morning's work on the previous day's bar. The
dashboard's tallies (``intranet.dashboard.tallies``) and the call centre's openings
(``intranet.usage.openings``) both count by these.
"""

from zoneinfo import ZoneInfo

# Japan's time, for what staff read (the pages, the exports) and Python's own day arithmetic.
JST = ZoneInfo("Asia/Tokyo")


def postgres(column: str) -> str:
    """The Japan day of ``column`` as a PostgreSQL ``date``."""
    return f"CAST({column} + INTERVAL '9 hours' AS date)"


def sqlite(column: str) -> str:
    """The Japan day of ``column`` as SQLite's ``YYYY-MM-DD`` text."""
    # SQLite's date functions round fractions to milliseconds: 14:59:59.9996 UTC would
    # become the next Japan day. Whole seconds cannot cross midnight (it is a whole second).
    return f"date(substr({column}, 1, 19), '+9 hours')"
