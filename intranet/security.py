"""Who may do what, enforced server-side by Pyramid's security policy.

The signed cookie carries only a session token; its server-side record
(``intranet.auth.sessions``) and the account are checked on every request: logout, a
disabled account, a changed password or role, an idle or an absolute timeout end the
session at once, and a cookie replayed afterwards is refused.
"""

from datetime import timedelta
from typing import ClassVar

from pyramid.authorization import ACLHelper, Allow, Authenticated, Everyone
from pyramid.request import RequestLocalCache
from pyramid.response import Response
from pyramid.tweens import INGRESS

from intranet.audit.writer import Actor, utcnow
from intranet.auth import sessions
from intranet.auth.models import ADMIN, INQUIRY, SECURITY_OFFICER, STAFF, SUPERVISOR, User
from intranet.auth.sessions import SESSION_ENDED
from intranet.db import session_factory_of

# Permission -> roles holding it, as one literal. A security officer reads the audit trail
# and nothing else; an administrator manages accounts but reads no applications. The
# inquiry desk (問い合わせ対応, issue 14) answers "where is my application?": it finds an
# application and reads its status and history, nothing else — no change, no export, no
# address, birth date, phone or notes ("applications.personal"). Every application it
# opens is audited (intranet/applications/views.py).
PERMISSIONS = {
    "applications.view": (STAFF, SUPERVISOR, INQUIRY),
    "applications.personal": (STAFF, SUPERVISOR),
    "applications.change": (STAFF, SUPERVISOR),
    "applications.export": (STAFF, SUPERVISOR),
    "applications.bulk": (SUPERVISOR,),
    "catalogue.view": (STAFF, SUPERVISOR, INQUIRY),
    "catalogue.edit": (SUPERVISOR,),
    "programmes.edit": (SUPERVISOR,),
    "audit.view": (SECURITY_OFFICER,),
    "transfers.view": (SECURITY_OFFICER,),
    "publications.request": (STAFF, SUPERVISOR),
    "imports.run": (STAFF, SUPERVISOR),
    "publications.approve": (SUPERVISOR,),
    "users.manage": (ADMIN,),
    # The second person for a supervisor grant: another administrator or a security officer.
    "users.approve_grant": (ADMIN, SECURITY_OFFICER),
    # Disposal: one supervisor requests, a second person (supervisor or security) approves.
    "disposals.view": (SUPERVISOR, SECURITY_OFFICER),
    "disposals.request": (SUPERVISOR,),
    "disposals.approve": (SUPERVISOR, SECURITY_OFFICER),
    "disclosures.produce": (SUPERVISOR,),
    # An application's story (intranet.stories): the changes for everyone who reads the
    # application; the audit facts in it (terminal, views) only for the security officer.
    "applications.story": (STAFF, SUPERVISOR, INQUIRY, SECURITY_OFFICER),
}


def may(role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission``: a service's own check reads the same literal."""
    return role in PERMISSIONS[permission]


class Root:
    __acl__: ClassVar = [
        (Allow, f"role:{role}", permission)
        for permission, roles in PERMISSIONS.items()
        for role in roles
    ] + [(Allow, Authenticated, "password.change")]

    def __init__(self, request):
        self.request = request


class SessionSecurityPolicy:
    def __init__(self, idle_timeout: int, absolute_timeout: int):
        self.idle_timeout = timedelta(seconds=idle_timeout)
        self.absolute_timeout = timedelta(seconds=absolute_timeout)
        self.helper = ACLHelper()
        # request.identity is asked for many times per request; load the user once.
        self.identity_cache = RequestLocalCache(self._load_identity)

    def identity(self, request):
        return self.identity_cache.get_or_create(request)

    def _load_identity(self, request):
        token = request.session.get("sid")
        if not token:
            return None
        check = sessions.check(request.dbsession, token, self.idle_timeout,
                               self.absolute_timeout, now=utcnow())
        user = None if check.user_id is None else request.dbsession.get(User, check.user_id)
        ended = check.ended
        if user is not None and (not user.is_active
                                 or request.session.get("security_stamp") != user.security_stamp):
            user, ended = None, sessions.REVOKED
        if user is None:
            if ended in (sessions.IDLE, sessions.EXPIRED, sessions.REVOKED):
                sessions.end_at_once(session_factory_of(request.registry), token, ended)
            request.environ[SESSION_ENDED] = ended or sessions.REVOKED
            request.session.invalidate()
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
        if user.must_change_password:
            # A one-time password opens the password change and nothing else.
            return [Everyone, Authenticated, f"user:{user.id}"]
        return [Everyone, Authenticated, f"user:{user.id}", f"role:{user.role}"]

    def remember(self, request, user, **kw):
        # A fresh session on login: nothing an attacker planted before survives it.
        request.session.invalidate()
        self.identity_cache.set(request, user)
        request.session["sid"] = sessions.start(request.dbsession, user, request.client_addr or "")
        request.session["security_stamp"] = user.security_stamp
        return []

    def forget(self, request, **kw):
        sessions.end(request.dbsession, request.session.get("sid", ""), sessions.LOGOUT)
        self.identity_cache.clear(request)
        request.session.invalidate()
        return []


def allowed_hosts_tween_factory(handler, registry):
    """Answer only to this app's own names (``shinsei.allowed_hosts``).

    Links in pages and redirects are built from the Host header; a forged one would make
    the app send staff to an attacker's site (password-reset style poisoning, cache
    poisoning behind a proxy). Anything else gets a plain 400 before any view runs.
    """
    allowed = {name.lower() for name in registry.settings["shinsei.allowed_hosts"].split()}

    def tween(request):
        host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
        if host not in allowed:
            return Response(
                "400 不明なホスト名です。管理者が設定した名前（shinsei.allowed_hosts）で"
                "アクセスしてください。\n", status=400, content_type="text/plain",
                charset="utf-8")
        return handler(request)

    return tween


def actor(request) -> Actor:
    """The audit actor for this request: the signed-in user, from the client's address."""
    user = request.identity
    name = user.username if user is not None else "anonymous"
    role = user.role if user is not None else ""
    return Actor(name=name, role=role, host=request.client_addr or "")


def includeme(config):
    settings = config.get_settings()
    config.set_security_policy(SessionSecurityPolicy(settings["session.idle_timeout"],
                                                     settings["session.absolute_timeout"]))
    config.set_root_factory(Root)
    config.add_tween("intranet.security.allowed_hosts_tween_factory", under=INGRESS)
    config.set_default_csrf_options(require_csrf=True)
    config.add_request_method(lambda request: request.identity, "user", reify=True)
    config.add_request_method(actor, "actor", reify=True)
