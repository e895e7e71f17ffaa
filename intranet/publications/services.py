"""Requesting, approving and previewing publications (the intranet side; it never signs
or pushes: the transfer job does, under its own OS user)."""

from sqlalchemy import select

from intranet.audit import writer
from intranet.dashboard import services as dashboard_services
from intranet.db import locked
from intranet.publications import changes, content
from intranet.publications.models import (
    APPROVED,
    PUBLISHED,
    REJECTED,
    REQUESTED,
    SPOOLED,
    SUPERSEDED,
    Publication,
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
                  four_eyes=four_eyes, **_changes_record(dbsession, publication))
    return publication


def decide(dbsession, actor, user, publication: Publication, approve: bool, four_eyes: bool,
           digest: str = ""):
    """Approve or reject. An approval names the digest the approver was shown: it must be
    the request's frozen content, so an approval can never cover anything else."""
    # Locked: two approvers at once would both approve (two records, two triggers).
    publication = locked(dbsession, Publication, publication.id)
    if publication.state != REQUESTED:
        raise PublicationRefused("この公開依頼はすでに処理されています。")
    if approve and four_eyes and publication.requested_by_id == user.id:
        raise PublicationRefused("依頼した本人は承認できません。別の監督者が承認してください。")
    if approve and (newer := newer_approved(dbsession, publication.id)) is not None:
        raise PublicationRefused(STALE_REQUEST, newer=newer)
    if approve and digest != publication.content_digest:
        raise PublicationRefused("承認しようとした内容（ダイジェスト）が依頼の内容と一致しません。"
                                 "画面を読み込み直して、内容を確認してから承認してください。")
    publication.state = APPROVED if approve else REJECTED
    publication.approved_by_id, publication.approved_at = user.id, writer.utcnow()
    if approve:
        publication.approved_digest = digest
    writer.append(dbsession, actor, "publication.approve" if approve else "publication.reject",
                  f"publication:{publication.id}", content_digest=publication.content_digest,
                  **_changes_record(dbsession, publication))


# A request freezes the applications as they were when it was made. Once a later request
# has been approved, approving an earlier one would put older statuses back on the
# residents' page (its sequence would be the newest): refused, never guessed.
STALE_REQUEST = ("この依頼の後に出された公開依頼（${newer} 番）がすでに承認されています。"
                 "この依頼の内容はそれより古いため承認できません。却下して、必要なら新しく依頼してください。")
APPROVED_ONCE = (APPROVED, SPOOLED, PUBLISHED, SUPERSEDED)


def newer_approved(dbsession, publication_id: int) -> int | None:
    """The newest request made after ``publication_id`` that was approved, if any."""
    return dbsession.execute(select(Publication.id).where(
        Publication.id > publication_id, Publication.state.in_(APPROVED_ONCE))
        .order_by(Publication.id.desc()).limit(1)).scalar_one_or_none()


def _changes_record(dbsession, publication: Publication) -> dict:
    """What the request changes against the last delivered publication, for the audit
    record: the totals the approver was shown, read the one way the screens read them."""
    found = changes.of_request(dbsession, publication.id)
    return {"changes": found.totals(),
            "compared_with": f"publication:{found.baseline.id}" if found.baseline else None}


def counts_by_programme(dbsession):
    """Applications per programme and status: the dashboard's tallies, kept exact by the
    database in the same statement as every change (a GROUP BY over a city's million
    applications took ~170 ms of this page)."""
    return dashboard_services.counts_by_programme(dbsession)
