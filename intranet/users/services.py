"""Creating and changing staff accounts; shared by the admin screens and the CLI."""

import re

from sqlalchemy import select

from intranet.audit import writer
from intranet.auth import passwords
from intranet.auth.models import ROLES, User
from intranet.refusals import Refused

_USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")


class AccountError(Refused):
    """A request the account rules refuse; ``field`` names the form field."""

    def __init__(self, field, message, **mapping):
        super().__init__(message, **mapping)
        self.field = field


def add_user(dbsession, actor, username, display_name, role, password) -> User:
    if not _USERNAME.match(username):
        raise AccountError("username", "ユーザー名は英数字と . _ - で3〜64文字にしてください。")
    if dbsession.execute(select(User.id).where(User.username == username)).first():
        raise AccountError("username", "このユーザー名はすでに使われています。")
    _check_role(role)
    user = User(username=username, display_name=display_name.strip() or username, role=role,
                password_hash=_hash(password), created_at=writer.utcnow())
    dbsession.add(user)
    dbsession.flush()
    writer.append(dbsession, actor, "user.create", f"user:{user.id}",
                  username=username, role=role)
    return user


def update_user(dbsession, actor, user, display_name, role, is_active, acting_user_id=None):
    _check_role(role)
    if user.id == acting_user_id and (role != user.role or not is_active):
        raise AccountError("role", "自分自身の役割の変更や無効化はできません。")
    before = {"display_name": user.display_name, "role": user.role, "is_active": user.is_active}
    user.display_name = display_name.strip() or user.username
    if role != user.role or is_active != user.is_active:
        user.security_stamp += 1  # ends the account's current sessions
    user.role, user.is_active = role, is_active
    after = {"display_name": user.display_name, "role": user.role, "is_active": user.is_active}
    writer.append(dbsession, actor, "user.update", f"user:{user.id}", before=before, after=after)


def set_password(dbsession, actor, user, password):
    user.password_hash = _hash(password)
    user.security_stamp += 1
    user.failed_logins = 0
    user.locked_until = None
    writer.append(dbsession, actor, "user.password", f"user:{user.id}")


def find_user(dbsession, username) -> User | None:
    return dbsession.execute(select(User).where(User.username == username)).scalar_one_or_none()


def _hash(password):
    try:
        return passwords.hash_password(password)
    except passwords.WeakPassword:
        raise AccountError("password", "パスワードは${min}文字以上にしてください。",
                           min=passwords.MIN_LENGTH) from None


def _check_role(role):
    if role not in ROLES:
        raise AccountError("role", "役割を選んでください。")
