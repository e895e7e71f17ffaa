"""Requesting, approving and previewing publications (the intranet side; it never signs
or pushes: the transfer job does, under its own OS user)."""

from sqlalchemy import and_, func, select

from intranet.applications.models import Application
from intranet.audit import writer
from intranet.dashboard import services as dashboard_services
from intranet.publications import content
from intranet.publications.models import (
    APPROVED,
    REJECTED,
    REQUESTED,
    Publication,
    PublicationRow,
    PublishedStatus,
)
from intranet.refusals import Refused


class PublicationRefused(Refused):
    """A publication decision the four-eyes rule or the request's state refuses."""


def request_publication(dbsession, actor, user, note: str, four_eyes: bool) -> Publication:
    """Freeze what is to be published and ask for its approval (or, with four eyes
    switched off by the explicit setting, approve it at once)."""
    now = writer.utcnow()
    publication = Publication(state=REQUESTED, requested_by_id=user.id, requested_at=now,
                              note=note[:1000])
    dbsession.add(publication)
    dbsession.flush()
    content.freeze(dbsession, publication)
    if not four_eyes:
        publication.state, publication.approved_by_id, publication.approved_at = APPROVED, user.id, now
        publication.approved_digest = publication.content_digest
    writer.append(dbsession, actor, "publication.request", f"publication:{publication.id}",
                  state=publication.state, note=publication.note,
                  content_digest=publication.content_digest, rows=publication.content_rows,
                  four_eyes=four_eyes)
    return publication


def decide(dbsession, actor, user, publication: Publication, approve: bool, four_eyes: bool,
           digest: str = ""):
    """Approve or reject. An approval names the digest the approver was shown: it must be
    the request's frozen content, so an approval can never cover anything else."""
    if publication.state != REQUESTED:
        raise PublicationRefused("この公開依頼はすでに処理されています。")
    if approve and four_eyes and publication.requested_by_id == user.id:
        raise PublicationRefused("依頼した本人は承認できません。別の監督者が承認してください。")
    if approve and digest != publication.content_digest:
        raise PublicationRefused("承認しようとした内容（ダイジェスト）が依頼の内容と一致しません。"
                                 "画面を読み込み直して、内容を確認してから承認してください。")
    publication.state = APPROVED if approve else REJECTED
    publication.approved_by_id, publication.approved_at = user.id, writer.utcnow()
    if approve:
        publication.approved_digest = digest
    writer.append(dbsession, actor, "publication.approve" if approve else "publication.reject",
                  f"publication:{publication.id}", content_digest=publication.content_digest)


def frozen_counts(dbsession, publication_id: int) -> dict[str, dict[str, int]]:
    """What the frozen content says, per programme and status: the approver's preview."""
    rows = dbsession.execute(
        select(PublicationRow.programme_code, PublicationRow.status_code, func.count())
        .where(PublicationRow.publication_id == publication_id)
        .group_by(PublicationRow.programme_code, PublicationRow.status_code))
    counts: dict[str, dict[str, int]] = {}
    for programme, status, n in rows:
        counts.setdefault(programme, {})[status] = n
    return counts


def counts_by_programme(dbsession):
    """Applications per programme and status: the dashboard's tallies, kept exact by the
    database in the same statement as every change (a GROUP BY over a city's million
    applications took ~170 ms of this page)."""
    return dashboard_services.counts_by_programme(dbsession)


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
