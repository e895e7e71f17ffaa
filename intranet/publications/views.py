"""Publication screens: preview and request, approve or reject, the outcome per destination
(the security officer's transfer log is in ``intranet.oversight.transfers``)."""

import json
from bisect import bisect_left
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.programmes.models import all_programmes
from intranet.publications import changes, failures, services
from intranet.publications.models import FAILED, Delivery, Publication
from intranet.web import BAD_INPUT, BadInput, discard_changes, matched_id, redirect_see_other
from transfer import config

LIST = "intranet:templates/publications/list.jinja2"
# Changed applications shown on the approval itself; the rest are a link (and a CSV) away.
FIRST_ENTRIES = 10


def _four_eyes(request) -> bool:
    return request.registry.settings["publication.four_eyes"]


@view_config(route_name="publications", permission="publications.request",
             request_method="GET", renderer=LIST)
def publication_list(request, error=None):
    dbsession = request.dbsession
    publications = dbsession.execute(
        select(Publication).order_by(Publication.id.desc()).limit(50)).scalars().all()
    programmes = all_programmes(dbsession)
    return {
        "publications": publications,
        "outcomes": failed_outcomes(request, [d for p in publications for d in p.deliveries]),
        "refusals": _refusals(dbsession, publications),
        "programmes": programmes,
        "counts": services.counts_by_programme(dbsession),
        "preview": changes.of_preview(dbsession),
        "four_eyes": _four_eyes(request),
        # The approver comes for these: each pending request with what it changes.
        "pending": [(p, changes.of_request(dbsession, p.id),
                     changes.entries(dbsession, p.id, limit=FIRST_ENTRIES))
                    for p in publications if p.state == "requested"],
        "programme_names": {p.code: p.name for p in programmes},
        "error": error,
    }


@view_config(route_name="publications", permission="publications.request",
             request_method="POST", renderer=LIST)
def publication_request(request):
    publication = services.request_publication(
        request.dbsession, request.actor, request.identity, request.POST.get("note", "").strip(),
        _four_eyes(request))
    if publication.state == "approved":
        _trigger_job(request)
    else:
        _touch_after_commit(request, "publication.prepare_file")
    request.session.flash(request.translate(
        "公開を依頼しました（内容のダイジェスト ${digest}）。", digest=publication.content_digest[:16]),
        "success")
    return redirect_see_other(request, "publications")


@view_config(route_name="publication_decision", permission="publications.approve",
             request_method="POST", renderer=LIST)
def publication_decision(request):
    publication = request.dbsession.get(Publication, matched_id(request))
    if publication is None:
        raise HTTPNotFound()
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        # Anything else used to count as a rejection: a decision is never guessed.
        raise BadInput(BAD_INPUT, field="decision")
    try:
        approve = decision == "approve"
        services.decide(request.dbsession, request.actor, request.identity, publication,
                        approve, _four_eyes(request), digest=request.POST.get("digest", ""))
        if approve:
            _trigger_job(request)
    except services.PublicationRefused as refused:
        discard_changes(request)
        request.response.status = 409
        return publication_list(request, error=refused.explain(request))
    request.session.flash(request.translate("公開依頼を処理しました。"), "success")
    return redirect_see_other(request, "publications")


def _refusals(dbsession, publications) -> dict[int, failures.Failure]:
    """Why the transfer job refused to publish a request (it sent nothing, so there is no
    delivery to show): the reason its audit record gives, in words."""
    refused = {f"publication:{p.id}": p.id for p in publications
               if p.state == FAILED and not p.deliveries}
    if not refused:
        return {}
    records = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "publication.refused", AuditRecord.target.in_(refused)))
    return {refused[r.target]: failures.explain(json.loads(r.details).get("reason", ""))
            for r in records.scalars()}


def _trigger_job(request):
    """Start the transfer job now instead of at the next timer (a systemd path unit watches
    ``publication.trigger_file``). The web app only touches a file: it never signs or
    pushes. The touch waits for the approval's commit: a job started by it at once (a
    quick machine, a builder already warm) must find the approval, not the request before
    it. A transaction that fails touches nothing.

    A request starts the job's preparation instead (``publication.prepare_file``, watched by
    shinsei-transfer-requested.path): the builder makes its table while it waits for the
    approval, and spools nothing. Not the job itself: a run the request started would often
    still be going when the approval lands, and a start landing as that run's push ends
    began a second build before the first run's recorder, which settled the new spool as
    failed (seen on booted hosts; docs/performance.md)."""
    _touch_after_commit(request, "publication.trigger_file")


def _touch_after_commit(request, setting: str) -> None:
    path = request.registry.settings.get(setting)
    if path:
        request.tm.get().addAfterCommitHook(_touch_when_committed, (path,))


def _touch_when_committed(committed: bool, path: str) -> None:
    if committed:
        # If the touch fails the timer still publishes it at its next run.
        with suppress(OSError):
            Path(path).touch()


@dataclass(frozen=True)
class FailedOutcome:
    """A failed delivery, for the screen: what happened, what residents saw meanwhile
    (the destination's previous delivery, until it expired), whether it has since
    recovered, and what to do."""

    failure: failures.Failure
    previous: datetime | None    # the last delivery to this destination before the failure
    expires: datetime | None     # when that one stops being shown as current
    recovered: datetime | None   # a later delivery to the same destination


def failed_outcomes(request, deliveries) -> dict[int, FailedOutcome]:
    failed = [d for d in deliveries if not d.delivered]
    if not failed:
        return {}
    valid_for = config.valid_for(request.registry.settings)
    delivered: dict[str, list[datetime]] = {}
    for destination, at in request.dbsession.execute(
            select(Delivery.destination, Delivery.at).where(
                Delivery.delivered.is_(True),
                Delivery.destination.in_({d.destination for d in failed}))
            .order_by(Delivery.at)):
        delivered.setdefault(destination, []).append(at)
    outcomes = {}
    for d in failed:
        times = delivered.get(d.destination, [])
        index = bisect_left(times, d.at)
        previous = times[index - 1] if index else None
        outcomes[d.id] = FailedOutcome(
            failures.explain(d.reason), previous, previous + valid_for if previous else None,
            times[index] if index < len(times) else None)
    return outcomes
