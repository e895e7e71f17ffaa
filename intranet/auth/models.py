"""Staff accounts and their roles."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base

# Roles, least to most privileged in their own area; they do not nest except
# supervisor ⊃ staff. See intranet.security for what each may do.
STAFF = "staff"
SUPERVISOR = "supervisor"
SECURITY_OFFICER = "security_officer"
ADMIN = "admin"
# 問い合わせ対応: call-centre and counter staff, who read status and history only.
INQUIRY = "inquiry"
ROLES = (STAFF, SUPERVISOR, SECURITY_OFFICER, ADMIN, INQUIRY)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Bumped whenever a password, role or activity changes, so that every session
    # issued before the change stops being accepted.
    security_stamp: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
