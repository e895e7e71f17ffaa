"""Account changes that take two people: a new account, a role change, a password reset.

An administrator asks; a second person approves — another administrator or a security
officer, never the one who asked nor the account itself — and only then does the account
change. A one-time password (new account, reset) is made of two halves: the first is shown
once to the one who asked, the second once to the one who approves, and each hands theirs
to the holder in person. Neither can sign in as the holder alone (an administrator who
resets a supervisor's password holds half of it), and the holder replaces it at first
sign-in. Until a reset is approved, the account's own password keeps working.

An administrator holds no role that reads applicant data: an administrator's account is
never given one, nor an account that has one made an administrator.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from intranet.audit import writer
from intranet.auth import passwords
from intranet.auth.models import ADMIN, User
from intranet.db import locked
from intranet.security import PERMISSIONS
from intranet.users import services
from intranet.users.models import CREATE, RESET, ROLE, RoleGrant
from intranet.users.services import UNUSABLE, AccountError

# Roles that read applicant data.
DATA_ROLES = PERMISSIONS["applications.view"]


@dataclass(frozen=True)
class Asked:
    grant: RoleGrant
    first_half: str | None = None   # shown once to the one who asked


def ask_account(dbsession, actor, asker_id, username, display_name, role) -> Asked:
    """A new account, disabled and without a password until a second person approves."""
    services.check_new_username(dbsession, username)
    services.check_role(role)
    user = User(username=username, display_name=display_name.strip() or username, role=role,
                is_active=False, created_at=writer.utcnow(), password_hash=UNUSABLE)
    dbsession.add(user)
    dbsession.flush()
    return _ask(dbsession, actor, asker_id, user, CREATE, role)


def ask_role(dbsession, actor, asker_id, user, role) -> RoleGrant:
    """A role change; the account keeps its role until approved."""
    services.check_role(role)
    if user.id == asker_id:
        raise AccountError("role", "自分自身の役割は変更できません。", reason="own_account")
    check_separation(user.role, role)
    _check_usable(user)
    same = pending_for(dbsession, user.id)
    if same is not None and same.kind == ROLE and same.role == role:
        return same
    return _ask(dbsession, actor, asker_id, user, ROLE, role).grant


def ask_reset(dbsession, actor, asker_id, user) -> Asked:
    _check_usable(user)
    return _ask(dbsession, actor, asker_id, user, RESET, user.role)


def decide(dbsession, actor, grant, decider_id, approve: bool, hours=72) -> str | None:
    """The second person's decision; returns the second half of a one-time password when
    the approval made one. The one who asked may withdraw (reject) but never approve."""
    # Locked: two approvers at once would each be shown a second half, one of them void.
    grant = locked(dbsession, RoleGrant, grant.id)
    if grant.state != "pending":
        raise AccountError("grant", "この依頼はすでに処理されています。", reason="decided")
    if approve and decider_id == grant.requested_by:
        raise AccountError("grant", "依頼した本人は承認できません。"
                                    "別の管理者かセキュリティ担当が承認してください。",
                           reason="own_request")
    if decider_id == grant.user_id:
        raise AccountError("grant", "自分のアカウントについての依頼は承認できません。"
                                    "別の管理者かセキュリティ担当が承認してください。",
                           reason="own_account")
    user = dbsession.get(User, grant.user_id)
    grant.state = "approved" if approve else "rejected"
    grant.decided_by, grant.decided_at = decider_id, writer.utcnow()
    if not approve:
        writer.append(dbsession, actor, "user.request.reject", f"user:{user.id}",
                      grant=grant.id, request=grant.kind, role=grant.role)
        return None
    if grant.kind == ROLE:
        check_separation(user.role, grant.role)   # the account may have changed since
        before, user.role = user.role, grant.role
        services.end_sessions(dbsession, user, "role")
        writer.append(dbsession, actor, "user.request.approve", f"user:{user.id}",
                      grant=grant.id, request=ROLE, before={"role": before},
                      after={"role": grant.role})
        return None
    second_half = _issue(dbsession, user, grant, hours)
    writer.append(dbsession, actor, "user.request.approve", f"user:{user.id}",
                  grant=grant.id, request=grant.kind, role=user.role)
    return second_half


def check_separation(current, wanted):
    """An administrator never reads applicant data, on this account or through a change."""
    if current == ADMIN and wanted in DATA_ROLES:
        raise AccountError("role", "管理者のアカウントに、申請者の情報を読む役割（職員・監督者・"
                                   "問い合わせ対応）は付けられません。その人の業務用に別の"
                                   "アカウントを作ってください。", reason="admin_data_role")
    if current in DATA_ROLES and wanted == ADMIN:
        raise AccountError("role", "申請者の情報を読む役割のアカウントを管理者にはできません。"
                                   "管理者用に別のアカウントを作ってください。",
                           reason="data_role_admin")


def refused(dbsession, actor, user_id, refusal: AccountError, kind):
    """The audit record of a refused attempt, so the security officer sees who tried what."""
    writer.append(dbsession, actor, "user.request.refused",
                  f"user:{user_id}" if user_id else "", request=kind, reason=refusal.reason)


def pending(dbsession):
    return dbsession.execute(select(RoleGrant).where(RoleGrant.state == "pending")
                             .order_by(RoleGrant.id)).scalars().all()


def pending_for(dbsession, user_id) -> RoleGrant | None:
    return dbsession.execute(select(RoleGrant).where(
        RoleGrant.user_id == user_id, RoleGrant.state == "pending")).scalars().first()


def _ask(dbsession, actor, asker_id, user, kind, role) -> Asked:
    if pending_for(dbsession, user.id) is not None:
        raise AccountError("grant", "このアカウントには承認待ちの依頼があります。承認されるか"
                                    "取り下げられてから、もう一度依頼してください。",
                           reason="pending")
    first_half = passwords.one_time_half() if kind in (CREATE, RESET) else None
    grant = RoleGrant(user_id=user.id, kind=kind, role=role, requested_by=asker_id,
                      requested_at=writer.utcnow(),
                      first_half_hash=first_half and passwords.hash_checked(first_half))
    dbsession.add(grant)
    dbsession.flush()
    details = {"username": user.username} if kind == CREATE else {}
    writer.append(dbsession, actor, "user.request", f"user:{user.id}", grant=grant.id,
                  request=kind, role=role, **details)
    return Asked(grant, first_half)


def _issue(dbsession, user, grant, hours) -> str:
    """The approved one-time password: the asker's half (kept as its hash) and a new one."""
    second_half = passwords.one_time_half()
    user.password_hash = passwords.split_hash(grant.first_half_hash, second_half)
    user.must_change_password = True
    user.password_expires_at = writer.utcnow() + timedelta(hours=hours)
    if grant.kind == CREATE:
        user.is_active = True   # a reset leaves a disabled account disabled
    services.end_sessions(dbsession, user, "password")
    return second_half


def _check_usable(user):
    if user.password_hash == UNUSABLE:
        raise AccountError("grant", "作成が承認されていないアカウントです。", reason="not_approved")
