"""Who may do what, enforced server-side by Pyramid's security policy.

Identity comes from the signed session cookie and is re-checked against the database on
every request: a disabled account, a changed password or role (``security_stamp``) or an
expired absolute session ends the session at once.
"""

from datetime import timedelta
from typing import ClassVar

from pyramid.authorization import ACLHelper, Allow, Authenticated, Everyone
from pyramid.request import RequestLocalCache
from sqlalchemy import select

from intranet.audit.writer import Actor, utcnow
from intranet.auth.models import ADMIN, SECURITY_OFFICER, STAFF, SUPERVISOR, User

# Permission -> roles holding it. A security officer reads the audit trail and nothing
# else; an administrator manages accounts but reads no applications.
PERMISSIONS = {
    "applications.view": (STAFF, SUPERVISOR),
    "applications.change": (STAFF, SUPERVISOR),
    "applications.bulk": (SUPERVISOR,),
    "catalogue.view": (STAFF, SUPERVISOR),
    "catalogue.edit": (SUPERVISOR,),
    "programmes.edit": (SUPERVISOR,),
    "audit.view": (SECURITY_OFFICER,),
    "transfers.view": (SECURITY_OFFICER,),
    "publications.request": (STAFF, SUPERVISOR),
    "imports.run": (STAFF, SUPERVISOR),
    "publications.approve": (SUPERVISOR,),
    "users.manage": (ADMIN,),
    # Disposal: one supervisor requests, a second person (supervisor or security) approves.
    "disposals.view": (SUPERVISOR, SECURITY_OFFICER),
    "disposals.request": (SUPERVISOR,),
    "disposals.approve": (SUPERVISOR, SECURITY_OFFICER),
    "disclosures.produce": (SUPERVISOR,),
}


class Root:
    __acl__: ClassVar = [
        (Allow, f"role:{role}", permission)
        for permission, roles in PERMISSIONS.items()
        for role in roles
    ]

    def __init__(self, request):
        self.request = request


class SessionSecurityPolicy:
    def __init__(self, absolute_timeout: int):
        self.absolute_timeout = timedelta(seconds=absolute_timeout)
        self.helper = ACLHelper()
        # request.identity is asked for many times per request; load the user once.
        self.identity_cache = RequestLocalCache(self._load_identity)

    def identity(self, request):
        return self.identity_cache.get_or_create(request)

    def _load_identity(self, request):
        session = request.session
        user_id = session.get("user_id")
        if user_id is None:
            return None
        user = request.dbsession.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
        authenticated_at = session.get("authenticated_at", 0)
        expired = utcnow().timestamp() - authenticated_at > self.absolute_timeout.total_seconds()
        if (user is None or not user.is_active or expired
                or session.get("security_stamp") != user.security_stamp):
            session.invalidate()
            return None
        return user

    def authenticated_userid(self, request):
        user = request.identity
        return None if user is None else user.id

    def permits(self, request, context, permission):
        return self.helper.permits(context, self.principals(request.identity), permission)

    @staticmethod
    def principals(user):
        if user is None:
            return [Everyone]
        return [Everyone, Authenticated, f"user:{user.id}", f"role:{user.role}"]

    def remember(self, request, user, **kw):
        # A fresh session on login: nothing an attacker planted before survives it.
        request.session.invalidate()
        self.identity_cache.set(request, user)
        request.session["user_id"] = user.id
        request.session["security_stamp"] = user.security_stamp
        request.session["authenticated_at"] = utcnow().timestamp()
        return []

    def forget(self, request, **kw):
        self.identity_cache.clear(request)
        request.session.invalidate()
        return []


def actor(request) -> Actor:
    """The audit actor for this request: the signed-in user, from the client's address."""
    user = request.identity
    name = user.username if user is not None else "anonymous"
    role = user.role if user is not None else ""
    return Actor(name=name, role=role, host=request.client_addr or "")


def includeme(config):
    settings = config.get_settings()
    config.set_security_policy(SessionSecurityPolicy(settings["session.absolute_timeout"]))
    config.set_root_factory(Root)
    config.set_default_csrf_options(require_csrf=True)
    config.add_request_method(lambda request: request.identity, "user", reify=True)
    config.add_request_method(actor, "actor", reify=True)
