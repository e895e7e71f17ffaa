"""Server-side session records: live, idle, expired, ended, and cleaned up."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from intranet.audit.writer import utcnow
from intranet.auth import sessions
from intranet.auth.models import User, UserSession

IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=8)


@pytest.fixture
def user(dbsession, password_hash):
    account = User(username="tanaka", display_name="田中", role="staff",
                   password_hash=password_hash, created_at=utcnow())
    dbsession.add(account)
    dbsession.flush()
    return account


def test_a_live_session_names_its_user_and_the_cookie_never_reaches_the_table(dbsession, user):
    token = sessions.start(dbsession, user, "192.0.2.1")
    assert sessions.check(dbsession, token, IDLE, ABSOLUTE).user_id == user.id
    stored = dbsession.execute(select(UserSession.token_hash)).scalars().all()
    assert token not in stored and len(stored[0]) == 64


def test_idle_expired_and_unknown_tokens_say_why(dbsession, user):
    token = sessions.start(dbsession, user, "192.0.2.1")
    now = utcnow()
    assert sessions.check(dbsession, token, IDLE, ABSOLUTE, now + IDLE * 2).ended == "idle"
    later = now + ABSOLUTE + timedelta(seconds=1)
    record = dbsession.execute(select(UserSession)).scalar_one()
    record.last_seen_at = later
    assert sessions.check(dbsession, token, IDLE, ABSOLUTE, later).ended == "expired"
    assert sessions.check(dbsession, "made-up", IDLE, ABSOLUTE).ended == "revoked"


def test_ending_all_keeps_only_the_one_asked_for(dbsession, user):
    mine, other = (sessions.start(dbsession, user, "192.0.2.1") for _ in range(2))
    assert sessions.end_all(dbsession, user.id, "password", keep=mine) == 1
    dbsession.expire_all()
    assert sessions.check(dbsession, mine, IDLE, ABSOLUTE).user_id == user.id
    assert sessions.check(dbsession, other, IDLE, ABSOLUTE).ended == "password"


def test_old_records_are_removed_when_a_session_starts(dbsession, user):
    old = sessions.start(dbsession, user, "192.0.2.1")
    record = dbsession.execute(select(UserSession)).scalar_one()
    record.last_seen_at = utcnow() - sessions.KEPT - timedelta(days=1)
    dbsession.flush()
    sessions.start(dbsession, user, "192.0.2.1")
    dbsession.expunge_all()                  # as the next request would see the table
    assert sessions.check(dbsession, old, IDLE, ABSOLUTE).ended == "revoked"
    assert len(dbsession.execute(select(UserSession)).all()) == 1
