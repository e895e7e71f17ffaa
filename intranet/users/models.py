"""An account change waiting for its second person."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base

# What a request asks for (``RoleGrant.kind``).
ROLE = "role"        # a role change
CREATE = "create"    # a new account
RESET = "reset"      # a password reset


class RoleGrant(Base):
    """A change to an account that takes two people (``intranet.users.requests``): a role
    change, a new account or a password reset. The administrator who asks and a second
    person — another administrator or a security officer, never the one who asked nor the
    account itself — who approves. Until then nothing about the account changes.

    A new account or a reset gets a one-time password in two halves: the first is shown to
    the one who asked (only its hash is kept here), the second to the one who approves. The
    holder types both; neither of the two can sign in alone."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=ROLE, server_default=ROLE)
    # The role asked for (a role change, a new account); the account's role for a reset.
    role: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    # pending | approved | rejected
    state: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    # argon2 hash of the first half of the one-time password (new account, reset).
    first_half_hash: Mapped[str | None] = mapped_column(String(255))
