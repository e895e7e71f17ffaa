"""Holding back password guessing per (account name, client address).

The old rule locked an account for everyone after five failures from anywhere, so five
anonymous requests could lock any colleague out. Now each (name, address) pair gets
``login.max_failures`` free failures, then every further attempt from that address for
that name waits twice as long as the last, up to ``login.max_delay_seconds``. The same
happens for names that do not exist, so the answer reveals nothing about accounts.

One address trying one password against many names (30 names × one common password) is
never slowed by the pair rule: each pair fails once. So each address also has its own count
across every name, ``login.max_failures_per_address`` free failures, then the same doubling.
It is kept in the same table under ``ADDRESS``, a key no keyed hash can equal (not hex), and
it holds back only that address: a colleague elsewhere signs in as usual.
"""

import hashlib
import hmac
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import delete

from intranet.auth.models import LoginThrottle

FORGET = timedelta(days=1)
# The address row's key: a name hash is 64 hex digits, so this can never be one.
ADDRESS = "*every name*"


def name_hash(secret: str, name: str) -> str:
    """Keyed, so that the table never holds what was typed (it may be a password)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return hmac.new(secret.encode("utf-8"), folded.encode("utf-8"), hashlib.sha256).hexdigest()


def wait_seconds(dbsession, key: str, address: str, now: datetime) -> int:
    """How long this (name, address) must still wait before trying again; 0 if it may."""
    row = dbsession.get(LoginThrottle, (key, address[:64]))
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0
    return max(1, int((row.blocked_until - now).total_seconds() + 0.999))


def record_failure(dbsession, key: str, address: str, now: datetime, settings) -> int:
    """Count a failure; return how many seconds the pair must now wait (0: none yet)."""
    # Pairs quiet for a day are forgotten: the table stays small whatever is typed.
    dbsession.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET),
                      execution_options={"synchronize_session": False})
    return _count(dbsession, key, address, now, settings["login.max_failures"],
                  settings["login.max_delay_seconds"])


def record_address_failure(dbsession, address: str, now: datetime, settings) -> int:
    """Count a failure from this address whatever name was typed; return its wait."""
    return _count(dbsession, ADDRESS, address, now, settings["login.max_failures_per_address"],
                  settings["login.max_delay_seconds"])


def _count(dbsession, key: str, address: str, now: datetime, free: int, cap: int) -> int:
    row = dbsession.get(LoginThrottle, (key, address[:64]))
    if row is None:
        row = LoginThrottle(name_hash=key, address=address[:64], failures=0, last_failure_at=now)
        dbsession.add(row)
    row.failures += 1
    row.last_failure_at = now
    over = row.failures - free
    delay = 0
    if over >= 0:
        delay = min(2 ** min(over, 20), cap)
        row.blocked_until = now + timedelta(seconds=delay)
    dbsession.flush()
    return delay


def clear(dbsession, key: str, address: str) -> None:
    dbsession.execute(delete(LoginThrottle).where(LoginThrottle.name_hash == key,
                                                  LoginThrottle.address == address[:64]))
