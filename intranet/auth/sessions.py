"""Server-side session records: a session ends when the server says so, not when the
cookie happens to expire.

The signed cookie only carries a random token. Every request looks the token's record
up (``check``); logout, a password or role change and disabling an account end the
record (``end`` / ``end_all``) at once, so a cookie copied or replayed afterwards is
worthless.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update

from intranet.audit.writer import utcnow
from intranet.auth.models import UserSession

# last_seen_at is written at most this often: a page that loads ten images must not
# turn into ten writes.
TOUCH_INTERVAL = timedelta(seconds=60)

IDLE = "idle"
EXPIRED = "expired"
LOGOUT = "logout"
REVOKED = "revoked"

# Where the reason a session ended is left for the login page ("idle", "expired", ...).
SESSION_ENDED = "shinsei.session_ended"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


# Ended or abandoned session records are kept this long (for the screens' "last seen"
# questions an incident raises), then removed when the next session starts.
KEPT = timedelta(days=30)


def start(dbsession, user, address: str) -> str:
    """Open a session for ``user``; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    dbsession.execute(delete(UserSession).where(UserSession.last_seen_at < now - KEPT),
                      execution_options={"synchronize_session": False})
    dbsession.add(UserSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                              last_seen_at=now, address=address[:64]))
    dbsession.flush()
    return token


@dataclass(frozen=True)
class SessionCheck:
    user_id: int | None
    # Why there is no user: "" (no session at all), idle, expired, logout, revoked.
    ended: str = ""


def check(dbsession, token: str, idle: timedelta, absolute: timedelta,
          now: datetime | None = None) -> SessionCheck:
    """The session's user if the record is live; otherwise why it is not."""
    now = now or utcnow()
    record = dbsession.get(UserSession, _digest(token)) if token else None
    if record is None:
        return SessionCheck(None, REVOKED if token else "")
    if record.ended_at is not None:
        return SessionCheck(None, record.end_reason or REVOKED)
    reason = (EXPIRED if now - record.created_at > absolute
              else IDLE if now - record.last_seen_at > idle else "")
    if reason:
        return SessionCheck(None, reason)
    if now - record.last_seen_at > TOUCH_INTERVAL:
        record.last_seen_at = now
    return SessionCheck(record.user_id)


def end_at_once(session_factory, token: str, reason: str) -> None:
    """End a session in a transaction of its own: the request that finds a session idle
    ends with the login page, and its own transaction is rolled back — the ending must
    stick even so, or the same cookie would work again."""
    with session_factory() as dbsession, dbsession.begin():
        end(dbsession, token, reason)


def end(dbsession, token: str, reason: str = LOGOUT) -> None:
    record = dbsession.get(UserSession, _digest(token)) if token else None
    if record is not None and record.ended_at is None:
        _end(record, reason, utcnow())


def end_all(dbsession, user_id: int, reason: str = REVOKED, keep: str | None = None) -> int:
    """End every live session of an account (``keep``: the token of the one making the
    change, when it is the account's own password change). Returns how many ended."""
    statement = (update(UserSession)
                 .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                 .values(ended_at=utcnow(), end_reason=reason))
    if keep:
        statement = statement.where(UserSession.token_hash != _digest(keep))
    return dbsession.execute(statement, execution_options={"synchronize_session": False}).rowcount


def _end(record, reason, now):
    record.ended_at, record.end_reason = now, reason
