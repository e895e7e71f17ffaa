"""Requesting, approving and previewing publications (the intranet side; it never signs
or pushes: the transfer job does, under its own OS user)."""

from sqlalchemy import and_, func, select

from intranet.applications.models import Application
from intranet.audit import writer
from intranet.publications.models import (
    APPROVED,
    REJECTED,
    REQUESTED,
    Publication,
    PublishedStatus,
)
from intranet.refusals import Refused


class PublicationRefused(Refused):
    """A publication decision the four-eyes rule or the request's state refuses."""


def request_publication(dbsession, actor, user, note: str, four_eyes: bool) -> Publication:
    now = writer.utcnow()
    publication = Publication(state=REQUESTED, requested_by_id=user.id, requested_at=now,
                              note=note[:1000])
    if not four_eyes:
        publication.state, publication.approved_by_id, publication.approved_at = APPROVED, user.id, now
    dbsession.add(publication)
    dbsession.flush()
    writer.append(dbsession, actor, "publication.request", f"publication:{publication.id}",
                  state=publication.state, note=publication.note)
    return publication


def decide(dbsession, actor, user, publication: Publication, approve: bool, four_eyes: bool):
    if publication.state != REQUESTED:
        raise PublicationRefused("この公開依頼はすでに処理されています。")
    if approve and four_eyes and publication.requested_by_id == user.id:
        raise PublicationRefused("依頼した本人は承認できません。別の監督者が承認してください。")
    publication.state = APPROVED if approve else REJECTED
    publication.approved_by_id, publication.approved_at = user.id, writer.utcnow()
    writer.append(dbsession, actor, "publication.approve" if approve else "publication.reject",
                  f"publication:{publication.id}")


def counts_by_programme(dbsession):
    rows = dbsession.execute(select(Application.programme_id, Application.status_code,
                                    func.count()).group_by(Application.programme_id,
                                                           Application.status_code))
    counts = {}
    for programme_id, status, n in rows:
        counts.setdefault(programme_id, {})[status] = n
    return counts


def changes_since_last_publication(dbsession) -> dict[str, int]:
    """New, status changed and removed, against what the last delivered snapshot said."""
    published = PublishedStatus
    new = dbsession.execute(select(func.count()).select_from(Application).outerjoin(
        published, published.application_id == Application.id).where(
        published.application_id.is_(None))).scalar_one()
    changed = dbsession.execute(select(func.count()).select_from(Application).join(
        published, published.application_id == Application.id).where(
        and_(published.status_code != Application.status_code))).scalar_one()
    removed = dbsession.execute(select(func.count()).select_from(published).outerjoin(
        Application, published.application_id == Application.id).where(
        Application.id.is_(None))).scalar_one()
    return {"new": new, "changed": changed, "removed": removed}
