"""The story page, and what it says once the programme's personal data were disposed of."""

from itertools import pairwise

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit import writer
from intranet.auth.models import INQUIRY, User
from intranet.deficiencies import catalogue as kind_catalogue
from intranet.disposal.models import APPROVED, Disposal
from intranet.programmes import lifecycle
from intranet.stories import events, page, published
from intranet.web import matched_id


@view_config(route_name="story", permission="applications.story",
             renderer="intranet:templates/stories/story.jinja2")
def story(request):
    application = request.dbsession.get(Application, matched_id(request))
    if application is None:
        raise HTTPNotFound()
    if lifecycle.state(application.programme) == lifecycle.DISPOSED:
        return _erased(request, application)
    if request.identity.role == INQUIRY:
        # As opening the application itself: who looked at whose story, and when.
        writer.append(request.dbsession, request.actor, "application.view",
                      f"application:{application.id}", page="story",
                      personal={application.id: {
                          "receipt": application.receipt_number_normalised}})
    steps = events.collect(request.dbsession, application)
    return {"application": application, "steps": page.shown(
                steps, _carriages(request, application, steps), _reader(request, application)),
            "audit_facts": request.has_permission("audit.view")}


def _carriages(request, application, steps):
    """What became of each change on the residents' page (None for a step that changed
    nothing residents read)."""
    public = [s for s in steps if s.changes_public]
    found = published.Publications.since(request.dbsession, public[0].at if public else None,
                                         application.programme.lookup_closed_at)
    following = {id(s): nxt.at for s, nxt in pairwise(public)}
    return [found.carriage(s.at, following.get(id(s))) if s.changes_public else None
            for s in steps]


def _reader(request, application) -> page.Reader:
    users = {name: (display, role) for name, display, role in request.dbsession.execute(
        select(User.username, User.display_name, User.role))}
    return page.Reader(request.translate, request.locale_name,
                       {code: s.label_for(request.locale_name)
                        for code, s in request.catalogue.items()},
                       users, kind_catalogue.load(request.dbsession, application.programme_id),
                       request.has_permission("audit.view"))


def _erased(request, application):
    """The programme was disposed of: its applicants' data are gone, so is their story."""
    request.override_renderer = "intranet:templates/stories/erased.jinja2"
    request.response.status = 410
    disposal = request.dbsession.execute(select(Disposal).where(
        Disposal.programme_id == application.programme_id, Disposal.state == APPROVED)
        .order_by(Disposal.id.desc()).limit(1)).scalar_one_or_none()
    return {"application": application, "programme": application.programme,
            "disposal": disposal}
