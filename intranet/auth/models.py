"""Staff accounts, their roles, their sessions and the throttle on guessing."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base

# Roles, least to most privileged in their own area; they do not nest except
# supervisor ⊃ staff. See intranet.security for what each may do.
STAFF = "staff"
SUPERVISOR = "supervisor"
SECURITY_OFFICER = "security_officer"
ADMIN = "admin"
ROLES = (STAFF, SUPERVISOR, SECURITY_OFFICER, ADMIN)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped whenever a password, role or activity changes, so that every session
    # issued before the change stops being accepted.
    security_stamp: Mapped[int] = mapped_column(default=1)
    # Set by an administrator's new account or reset: the password is a one-time password
    # that must be replaced at the first sign-in, before the account can do anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    password_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class UserSession(Base):
    """One signed-in session. The cookie carries a random token; only its SHA-256 is stored
    here, so reading this table does not let anyone take a session over. A session ends
    (``ended_at``) at logout, password or role change, disabling, idle or absolute timeout,
    and an ended session is never accepted again, whatever cookie comes with it."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(64), default="")
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(32), default="")


class LoginThrottle(Base):
    """Failed sign-ins per (account name, client address). The name is kept only as a keyed
    hash: what someone typed into the name field may be a password."""

    __tablename__ = "login_throttle"

    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]
