"""Creating and changing staff accounts; shared by the admin screens and the CLI.

Separation of duties: an administrator manages accounts but cannot make one usable with a
data role on their own. A new account or a reset gets a one-time password the holder must
replace at first sign-in, and granting supervisor waits for a second person.
"""

import re
from datetime import timedelta

from sqlalchemy import select

from intranet.audit import writer
from intranet.auth import passwords, sessions
from intranet.auth.models import ROLES, SUPERVISOR, User
from intranet.refusals import Refused
from intranet.users.models import RoleGrant

_USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")

# Roles that take a second person to grant.
FOUR_EYES_ROLES = (SUPERVISOR,)

_WEAK = {
    "too_short": "パスワードは${min}文字以上にしてください。",
    "common": "よく使われているパスワードのため使えません。推測されにくい語句にしてください。",
    "name": "ユーザー名を含むパスワードは使えません。",
}


class AccountError(Refused):
    """A request the account rules refuse; ``field`` names the form field."""

    def __init__(self, field, message, **mapping):
        super().__init__(message, **mapping)
        self.field = field


def add_user(dbsession, actor, username, display_name, role, password=None,
             requested_by=None, one_time_hours=72):
    """Add an account. Without ``password`` (the admin screen) it gets a one-time password,
    returned with the user; a four-eyes role starts as a pending grant on a staff account."""
    if not _USERNAME.match(username):
        raise AccountError("username", "ユーザー名は英数字と . _ - で3〜64文字にしてください。")
    if dbsession.execute(select(User.id).where(User.username == username)).first():
        raise AccountError("username", "このユーザー名はすでに使われています。")
    _check_role(role)
    pending = role in FOUR_EYES_ROLES and requested_by is not None
    user = User(username=username, display_name=display_name.strip() or username,
                role="staff" if pending else role, created_at=writer.utcnow(),
                password_hash="!")  # replaced below; "!" matches no password  # noqa: S106
    one_time = None
    if password is None:
        one_time = _issue_one_time(user, one_time_hours)
    else:
        user.password_hash = _hash(password, username)
    dbsession.add(user)
    dbsession.flush()
    writer.append(dbsession, actor, "user.create", f"user:{user.id}",
                  username=username, role=user.role, one_time_password=one_time is not None)
    if pending:
        request_grant(dbsession, actor, user, role, requested_by)
    return user, one_time


def update_user(dbsession, actor, user, display_name, role, is_active, acting_user_id=None):
    """Change name, role and activity. Returns a pending RoleGrant when the new role needs a
    second person (the role then stays as it was until approved)."""
    _check_role(role)
    if user.id == acting_user_id and (role != user.role or not is_active):
        raise AccountError("role", "自分自身の役割の変更や無効化はできません。")
    grant = None
    if role != user.role and role in FOUR_EYES_ROLES and acting_user_id is not None:
        grant = request_grant(dbsession, actor, user, role, acting_user_id)
        role = user.role
    before = {"display_name": user.display_name, "role": user.role, "is_active": user.is_active}
    user.display_name = display_name.strip() or user.username
    if role != user.role or is_active != user.is_active:
        _end_sessions(dbsession, user, "role" if role != user.role else "disabled")
    user.role, user.is_active = role, is_active
    after = {"display_name": user.display_name, "role": user.role, "is_active": user.is_active}
    if before != after:
        writer.append(dbsession, actor, "user.update", f"user:{user.id}", before=before,
                      after=after)
    return grant


def request_grant(dbsession, actor, user, role, requested_by) -> RoleGrant:
    existing = dbsession.execute(select(RoleGrant).where(
        RoleGrant.user_id == user.id, RoleGrant.role == role,
        RoleGrant.state == "pending")).scalar_one_or_none()
    if existing is not None:
        return existing
    grant = RoleGrant(user_id=user.id, role=role, requested_by=requested_by,
                      requested_at=writer.utcnow())
    dbsession.add(grant)
    dbsession.flush()
    writer.append(dbsession, actor, "user.grant.request", f"user:{user.id}", role=role,
                  grant=grant.id)
    return grant


def decide_grant(dbsession, actor, grant, decider_id, approve: bool):
    """The second person's decision. The one who asked, and the account itself, cannot."""
    if grant.state != "pending":
        raise AccountError("grant", "この申請はすでに処理されています。")
    if decider_id in (grant.requested_by, grant.user_id):
        raise AccountError("grant", "申請した本人や対象者は承認できません。"
                                    "別の管理者かセキュリティ担当が承認してください。")
    grant.state = "approved" if approve else "rejected"
    grant.decided_by, grant.decided_at = decider_id, writer.utcnow()
    user = dbsession.get(User, grant.user_id)
    if approve:
        before = user.role
        user.role = grant.role
        _end_sessions(dbsession, user, "role")
        writer.append(dbsession, actor, "user.grant.approve", f"user:{user.id}",
                      grant=grant.id, before={"role": before}, after={"role": grant.role})
    else:
        writer.append(dbsession, actor, "user.grant.reject", f"user:{user.id}",
                      grant=grant.id, role=grant.role)


def reset_password(dbsession, actor, user, one_time_hours=72) -> str:
    """An administrator's reset: a one-time password, shown once, changed at first sign-in."""
    one_time = _issue_one_time(user, one_time_hours)
    _end_sessions(dbsession, user, "password")
    writer.append(dbsession, actor, "user.password.reset", f"user:{user.id}")
    return one_time


def set_password(dbsession, actor, user, password):
    """The operator's CLI: a chosen password, usable at once."""
    user.password_hash = _hash(password, user.username)
    user.must_change_password, user.password_expires_at = False, None
    _end_sessions(dbsession, user, "password")
    writer.append(dbsession, actor, "user.password", f"user:{user.id}")


def change_own_password(dbsession, actor, user, current, new, keep_token=None):
    """The holder changes their own password; their other sessions end, this one stays."""
    if not passwords.verify(user.password_hash, current):
        raise AccountError("current", "現在のパスワードが正しくありません。")
    if passwords.verify(user.password_hash, new):
        raise AccountError("password", "今と同じパスワードは使えません。")
    user.password_hash = _hash(new, user.username)
    was_one_time = user.must_change_password
    user.must_change_password, user.password_expires_at = False, None
    sessions.end_all(dbsession, user.id, "password", keep=keep_token)
    writer.append(dbsession, actor, "user.password.change", f"user:{user.id}",
                  replaced_one_time=was_one_time)


def pending_grants(dbsession):
    return dbsession.execute(select(RoleGrant).where(RoleGrant.state == "pending")
                             .order_by(RoleGrant.id)).scalars().all()


def find_user(dbsession, username) -> User | None:
    return dbsession.execute(select(User).where(User.username == username)).scalar_one_or_none()


def _issue_one_time(user, hours):
    one_time = passwords.one_time_password()
    user.password_hash = passwords.hash_checked(one_time)
    user.must_change_password = True
    user.password_expires_at = writer.utcnow() + timedelta(hours=hours)
    return one_time


def _end_sessions(dbsession, user, reason):
    user.security_stamp += 1
    if user.id is not None:
        sessions.end_all(dbsession, user.id, reason)


def _hash(password, username=""):
    try:
        return passwords.hash_password(password, username)
    except passwords.WeakPassword as weak:
        raise AccountError("password", _WEAK[weak.reason], min=passwords.MIN_LENGTH) from None


def _check_role(role):
    if role not in ROLES:
        raise AccountError("role", "役割を選んでください。")
