"""Staff accounts: what one person may do alone, shared by the admin screens and the CLI.

Separation of duties: an administrator manages accounts but cannot make one usable on
their own. A new account, a role change and a password reset wait for a second person
(``intranet.users.requests``); here is only what takes one: a display name, disabling,
one's own password, and the operator's bootstrap of the first administrator and the first
security officer on the command line.
"""

import re

from sqlalchemy import select

from intranet.audit import writer
from intranet.auth import passwords, sessions
from intranet.auth.models import ADMIN, ROLES, SECURITY_OFFICER, User
from intranet.refusals import Refused

_USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
# The password of an account no one has been able to sign in to yet: matches no password.
UNUSABLE = "!"
# The only accounts the operator's command line makes or resets: neither reads applicant
# data, and the command line makes one of each only while none is in use (bootstrap).
BOOTSTRAP_ROLES = (ADMIN, SECURITY_OFFICER)

_WEAK = {
    "too_short": "パスワードは${min}文字以上にしてください。",
    "common": "よく使われているパスワードのため使えません。推測されにくい語句にしてください。",
    "name": "ユーザー名を含むパスワードは使えません。",
}


class AccountError(Refused):
    """A request the account rules refuse; ``field`` names the form field, ``reason`` is the
    code the audit record of a refused attempt keeps (``intranet.oversight.labels``)."""

    def __init__(self, field, message, reason="invalid", **mapping):
        super().__init__(message, **mapping)
        self.field, self.reason = field, reason


def check_new_username(dbsession, username):
    if not _USERNAME.match(username):
        raise AccountError("username", "ユーザー名は英数字と . _ - で3〜64文字にしてください。")
    if dbsession.execute(select(User.id).where(User.username == username)).first():
        raise AccountError("username", "このユーザー名はすでに使われています。")


def add_user(dbsession, actor, username, display_name, role, password) -> User:
    """An account with a chosen password, usable at once: the bootstrap below, the demo and
    the tests' fixtures. The screens ask for an account instead (``requests.ask_account``)."""
    check_new_username(dbsession, username)
    check_role(role)
    user = User(username=username, display_name=display_name.strip() or username, role=role,
                created_at=writer.utcnow(), password_hash=_hash(password, username))
    dbsession.add(user)
    dbsession.flush()
    writer.append(dbsession, actor, "user.create", f"user:{user.id}",
                  username=username, role=role, one_time_password=False)
    return user


def bootstrap_account(dbsession, actor, username, display_name, role, password) -> User:
    """The operator's ``user add``: the first administrator or security officer of an
    install (or the next one once none is left in use). Everyone else, and every further
    one, is asked for on the screens and approved by a second person."""
    _check_bootstrap_role(role)
    in_use = dbsession.execute(select(User.username).where(
        User.role == role, User.is_active.is_(True))).scalars().first()
    if in_use is not None:
        raise AccountError("role", "この役割のアカウント（${name}）がすでにあります。2人目からは"
                                   "管理者が職員用画面で依頼し、別の人が承認します。",
                           reason="bootstrap_done", name=in_use)
    return add_user(dbsession, actor, username, display_name, role, password)


def update_user(dbsession, actor, user, display_name, is_active, acting_user_id=None):
    """Change the display name and whether the account may sign in (one person: neither
    gives anyone access). A role change is a request (``requests.ask_role``)."""
    if user.id == acting_user_id and not is_active:
        raise AccountError("is_active", "自分自身の無効化はできません。", reason="own_account")
    if is_active and not user.is_active and user.password_hash == UNUSABLE:
        raise AccountError("is_active", "作成が承認されていないアカウントは有効にできません。",
                           reason="not_approved")
    before = {"display_name": user.display_name, "is_active": user.is_active}
    user.display_name = display_name.strip() or user.username
    if is_active != user.is_active:
        end_sessions(dbsession, user, "disabled")
    user.is_active = is_active
    after = {"display_name": user.display_name, "is_active": user.is_active}
    if before != after:
        writer.append(dbsession, actor, "user.update", f"user:{user.id}", before=before,
                      after=after)


def set_password(dbsession, actor, user, password):
    """The operator's CLI: a chosen password, usable at once — for an administrator or a
    security officer locked out (no one left to approve a reset). Accounts that read
    applicant data are reset on the screens, by two people."""
    _check_bootstrap_role(user.role)
    user.password_hash = _hash(password, user.username)
    user.must_change_password, user.password_expires_at = False, None
    end_sessions(dbsession, user, "password")
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


def find_user(dbsession, username) -> User | None:
    return dbsession.execute(select(User).where(User.username == username)).scalar_one_or_none()


def end_sessions(dbsession, user, reason):
    user.security_stamp += 1
    if user.id is not None:
        sessions.end_all(dbsession, user.id, reason)


def _hash(password, username=""):
    try:
        return passwords.hash_password(password, username)
    except passwords.WeakPassword as weak:
        raise AccountError("password", _WEAK[weak.reason], min=passwords.MIN_LENGTH) from None


def check_role(role):
    if role not in ROLES:
        raise AccountError("role", "役割を選んでください。")


def _check_bootstrap_role(role):
    if role not in BOOTSTRAP_ROLES:
        raise AccountError("role", "コマンドで作成・パスワード設定ができるのは管理者とセキュリティ担当"
                                   "だけです。職員・監督者・問い合わせ対応のアカウントは、管理者が"
                                   "職員用画面で依頼し、別の人が承認します。",
                           reason="bootstrap_role")
