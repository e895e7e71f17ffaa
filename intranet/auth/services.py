"""Logging in: password check, throttling and lockout, and the audit of every attempt."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from intranet.audit import writer
from intranet.auth import passwords
from intranet.auth.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    # ok | bad_credentials | locked
    outcome: str


def authenticate(dbsession, settings, actor_host: str, username: str, password: str):
    """Check a login attempt; count failures and lock the account after too many.

    The caller shows one message for unknown accounts and wrong passwords alike.
    """
    now = writer.utcnow()
    user = dbsession.execute(select(User).where(User.username == username)).scalar_one_or_none()
    password_ok = passwords.verify(user.password_hash if user else None, password)
    audit_actor = writer.Actor(name=username[:128], role=user.role if user else "", host=actor_host)

    if user is not None and user.locked_until is not None and user.locked_until > now:
        writer.append(dbsession, audit_actor, "login.locked", f"user:{user.id}")
        return LoginResult(None, "locked")
    if user is None or not user.is_active or not password_ok:
        if user is not None:
            _count_failure(user, settings, now, actor_host)
        writer.append(dbsession, audit_actor, "login.failure", f"user:{user.id}" if user else "",
                      reason="inactive" if user is not None and password_ok else "credentials")
        return LoginResult(None, "bad_credentials")

    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    writer.append(dbsession, audit_actor, "login.success", f"user:{user.id}")
    return LoginResult(user, "ok")


def _count_failure(user, settings, now, host):
    user.failed_logins += 1
    if user.failed_logins >= settings["login.max_failures"]:
        user.locked_until = now + timedelta(minutes=settings["login.lockout_minutes"])
        user.failed_logins = 0
        # A burst of wrong passwords: the operator may be looking at a guessing attack.
        log.warning("login: account user:%s locked for %s minutes after %s failures (last from %s)",
                    user.id, settings["login.lockout_minutes"], settings["login.max_failures"],
                    host)
