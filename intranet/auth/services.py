"""Logging in: password check, throttling per (name, address) and per address, and the audit
of every attempt."""

import logging
from dataclasses import dataclass

from sqlalchemy import select

from intranet.audit import writer
from intranet.auth import passwords, throttle
from intranet.auth.models import User

OK = "ok"
BAD_CREDENTIALS = "bad_credentials"
THROTTLED = "throttled"
ONE_TIME_EXPIRED = "one_time_expired"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    outcome: str
    wait_seconds: int = 0


def authenticate(dbsession, settings, address: str, username: str, password: str):
    """Check a login attempt.

    Unknown names, disabled accounts and wrong passwords get one answer; a throttled pair
    gets another, but names that do not exist are throttled exactly like real ones.
    """
    now = writer.utcnow()
    key = throttle.name_hash(settings["session.secret"], username)
    user = dbsession.execute(select(User).where(User.username == username)).scalar_one_or_none()
    # What was typed into the name field is kept only if it names an account: a password
    # typed there by mistake must never land in the audit trail.
    audit_actor = writer.Actor(name=user.username if user else "(unknown)",
                               role=user.role if user else "", host=address)
    target = f"user:{user.id}" if user else ""

    pair_wait = throttle.wait_seconds(dbsession, key, address, now)
    address_wait = throttle.wait_seconds(dbsession, throttle.ADDRESS, address, now)
    if pair_wait or address_wait:
        wait = max(pair_wait, address_wait)
        writer.append(dbsession, audit_actor, "login.throttled", target, wait_seconds=wait,
                      held="address" if address_wait >= pair_wait else "name")
        return LoginResult(None, THROTTLED, wait)
    password_ok = passwords.verify(user.password_hash if user else None, password)
    if user is None or not user.is_active or not password_ok:
        _count_failure(dbsession, settings, key, address, now, target)
        writer.append(dbsession, audit_actor, "login.failure", target,
                      reason="inactive" if user is not None and password_ok else "credentials")
        return LoginResult(None, BAD_CREDENTIALS)
    throttle.clear(dbsession, key, address)
    if user.must_change_password and user.password_expires_at and user.password_expires_at < now:
        writer.append(dbsession, audit_actor, "login.failure", target, reason="one_time_expired")
        return LoginResult(None, ONE_TIME_EXPIRED)

    user.last_login_at = now
    if not user.must_change_password and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_checked(password)
    writer.append(dbsession, audit_actor, "login.success", target)
    return LoginResult(user, OK)


def _count_failure(dbsession, settings, key: str, address: str, now, target: str) -> None:
    """Per (name, address) and per address; the start of either burst is logged, since the
    operator may be looking at a guessing attack. The typed name is not logged (it may be
    a password), only the account if real."""
    if throttle.record_failure(dbsession, key, address, now, settings) == 1:
        log.warning("login: %s failures for %s from %s; further attempts from there wait, "
                    "doubling up to %s s", settings["login.max_failures"],
                    target or "an unknown name", address, settings["login.max_delay_seconds"])
    if throttle.record_address_failure(dbsession, address, now, settings) == 1:
        log.warning("login: %s failures from %s across account names; every further attempt "
                    "from there waits, doubling up to %s s",
                    settings["login.max_failures_per_address"], address,
                    settings["login.max_delay_seconds"])
