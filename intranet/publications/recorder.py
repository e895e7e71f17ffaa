"""The recorder (``shinsei-transfer record-deliveries``): the pusher's report, into the
publication, its deliveries and the audit chain — so the publication still reads as one.

The pusher has no database credentials, so it cannot record what it did; it leaves
``results/result.json``. This step runs as the builder's user (who has the database) right
after the pusher (``shinsei-transfer.service`` is ordered after ``shinsei-transfer-push``),
and again at the start of every build, so a report is never lost. The report is hostile
input — it was written by the process that talked to the internet — so it is checked field
by field (``transfer.spool.read_result``), must name the sequence and the content digest of
the publication that was spooled, and a report naming any destination that is not configured
(``transfer.destinations``) is refused whole and audited.
A spooled publication without a report is settled as failed, with the reason: the signer
or the pusher did not finish (their journals say why).

A re-delivery report (the same signed file again, for hosts that missed it:
``intranet.publications.catchup``) is recorded against the publication it carries — the one
with its sequence that was sent before, and its content digest — as ``transfer.redelivery``
rows, once per report id; a publication that had reached no host becomes published by it.
"""

import logging
from pathlib import Path
from typing import Any

import transaction
from sqlalchemy import delete, select

from intranet.audit import services as audit_services
from intranet.audit import writer
from intranet.audit.models import AuditRecord
from intranet.db import get_tm_session
from intranet.publications import content
from intranet.publications.builder import BuildPlan
from intranet.publications.models import (
    APPROVED,
    FAILED,
    PUBLISHED,
    REQUESTED,
    SPOOLED,
    Delivery,
    Publication,
    PublicationChange,
    PublicationRow,
)
from intranet.usage.record import record_fetched
from transfer import checkpoints, spool, transports
from transfer.checkpoints import Checkpoint

log = logging.getLogger(__name__)


def record_results(session_factory, plan: BuildPlan, root: Path,
                   checkpoint: Checkpoint | None = None) -> list[transports.Delivery]:
    """Settle every spooled publication from the pusher's report; return its deliveries."""
    try:
        result = spool.read_result(spool.directories(root)[spool.RESULTS])
        unreadable = ""
    except spool.SpoolRefused as refused:
        result, unreadable = None, f"the pusher's report was refused: {refused}"
        log.error("%s", unreadable)
    stranger = _unknown_destination(plan, result)
    if stranger:
        unreadable = (f"the pusher's report was refused: it names {stranger[:255]!r}, which "
                      f"is not a configured destination (transfer.destinations: "
                      f"{', '.join(plan.destinations) or 'none'})")
        log.error("%s", unreadable)
    deliveries: list[transports.Delivery] = []
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        for noted in _new_checkpoints(dbsession, plan, checkpoint):
            audit_services.note_checkpoint(dbsession, plan.actor, noted)
        spooled = dbsession.execute(select(Publication).where(Publication.state == SPOOLED)
                                    .order_by(Publication.id)
                                    .with_for_update(of=Publication)).scalars().all()
        for publication in spooled:
            if result is not None and not stranger and result["kind"] == spool.DELIVERY \
                    and result["sequence"] == publication.sequence:
                deliveries = _settle(dbsession, plan, publication, result)
                _usage(dbsession, plan, result, root)
            else:
                _fail(dbsession, plan, publication, unreadable or (
                    f"no report from the pusher for sequence {publication.sequence}: the "
                    "signer or the pusher did not finish (see shinsei-transfer-sign and "
                    "shinsei-transfer-push in the journal)"))
        if stranger and result is not None and result["kind"] == spool.REDELIVERY:
            _refused_report(dbsession, plan, result, unreadable)
            result = None
        if result is not None and result["kind"] == spool.REDELIVERY:
            deliveries = _redelivered(dbsession, plan, result)
            if deliveries:                      # the report is new: its fetches are too
                _usage(dbsession, plan, result, root)
    return deliveries


def _unknown_destination(plan: BuildPlan, result: dict[str, Any] | None) -> str:
    """The first destination the report names that is not configured ("" if none): a
    well-formed report is still believed only about the hosts this city publishes to."""
    for delivery in (result or {}).get("deliveries", []):
        if delivery["destination"] not in plan.destinations:
            return str(delivery["destination"])
    return ""


def _refused_report(dbsession, plan: BuildPlan, result: dict[str, Any], reason: str) -> None:
    """A re-delivery report refused: audited once, on the report itself."""
    target = f"report:{result['report']}"
    if dbsession.execute(select(AuditRecord.seq).where(
            AuditRecord.action == "transfer.failed", AuditRecord.target == target)
            .limit(1)).first() is None:
        writer.append(dbsession, plan.actor, "transfer.failed", target,
                      sequence=result["sequence"], reason=reason[:2000])


def _usage(dbsession, plan: BuildPlan, result: dict[str, Any], root: Path) -> None:
    """The public hosts' usage counts fetched in this report's sessions (hostile: checked
    by ``intranet.usage.record``), once per report, like its deliveries."""
    record_fetched(dbsession, plan.actor, result, spool.directories(root)[spool.RESULTS])


def _settle(dbsession, plan: BuildPlan, publication: Publication,
            result: dict[str, Any]) -> list[transports.Delivery]:
    if not result["verified"]:
        _fail(dbsession, plan, publication, f"the pusher refused the signed file: "
                                            f"{result['reason']}")
        return []
    if result["content_digest"] != publication.content_digest:
        _fail(dbsession, plan, publication, "the pusher reported a file of another content "
              f"digest ({result['content_digest'][:16]}…): nothing recorded as delivered")
        return []
    deliveries = [transports.Delivery(**d) for d in result["deliveries"]]
    delivered_any = any(d.delivered for d in deliveries)
    publication.state = PUBLISHED if delivered_any else FAILED
    publication.size, publication.sha256 = result["size"], result["sha256"]
    publication.entries = result["entries"]
    publication.signing_key_ids = ",".join(result["signing_key_ids"])
    publication.finished_at = writer.utcnow()
    _add_deliveries(dbsession, plan, publication, result, deliveries)
    if delivered_any:
        _remember_published(dbsession, publication.id)
        _frozen_rows_checked(dbsession, plan, publication)
    return deliveries


def _frozen_rows_checked(dbsession, plan: BuildPlan, publication: Publication) -> None:
    """The delivered publication's frozen rows must still reproduce its digest.

    Its table was made from rows that did — while the request waited, before the approval
    (``builder.prepare_waiting``), so rows edited since never reached residents. But an
    edit there means someone wrote where nobody may: it is found here, off the residents'
    path, logged and audited (``publication.rows_altered``) for the security officer."""
    found, _ = content.read_frozen(dbsession, publication, keep_rows=False)
    if found == publication.content_digest:
        return
    log.error("publication %s: its frozen rows were altered in the database after its table "
              "was made (the published table holds the approved content)", publication.id)
    writer.append(dbsession, plan.actor, "publication.rows_altered",
                  f"publication:{publication.id}", content_digest=publication.content_digest,
                  rows_digest=found)


def _redelivered(dbsession, plan: BuildPlan, result: dict[str, Any]) -> list[transports.Delivery]:
    """The same file again, to hosts that missed it: recorded once per report."""
    if dbsession.execute(select(Delivery.id).where(Delivery.report == result["report"])
                         .limit(1)).first() is not None:
        return []                                  # recorded by an earlier call
    publication = dbsession.execute(
        select(Publication).where(Publication.sequence == result["sequence"],
                                  Publication.state.in_((PUBLISHED, FAILED)),
                                  Publication.id.in_(select(Delivery.publication_id)))
        .with_for_update(of=Publication)).scalar_one_or_none()
    if publication is None or (result["verified"]
                               and result["content_digest"] != publication.content_digest):
        _unknown_redelivery(dbsession, plan, result)
        return []
    deliveries = [transports.Delivery(**d) for d in result["deliveries"]]
    _add_deliveries(dbsession, plan, publication, result, deliveries, redelivery=True)
    if publication.state == FAILED and any(d.delivered for d in deliveries):
        # It had reached no host; now one has it: residents see it, the preview starts there.
        publication.state, publication.finished_at = PUBLISHED, writer.utcnow()
        _remember_published(dbsession, publication.id)
    return deliveries


def _unknown_redelivery(dbsession, plan: BuildPlan, result: dict[str, Any]) -> None:
    """A re-delivery report naming no publication that was sent: the file went out all the
    same, so it is recorded loudly, once, on the report itself."""
    target = f"report:{result['report']}"
    if dbsession.execute(select(AuditRecord.seq).where(
            AuditRecord.action == "transfer.failed", AuditRecord.target == target)
            .limit(1)).first() is not None:
        return
    reason = (f"the pusher reported a re-delivery of sequence {result['sequence']} "
              f"(content digest {str(result.get('content_digest', ''))[:16]}…) that matches no "
              "publication sent before: nothing recorded as delivered; "
              f"destinations: {', '.join(d['destination'] for d in result['deliveries'])}")
    log.error("%s", reason)
    writer.append(dbsession, plan.actor, "transfer.failed", target,
                  sequence=result["sequence"], reason=reason[:2000])


def _add_deliveries(dbsession, plan: BuildPlan, publication: Publication,
                    result: dict[str, Any], deliveries: list[transports.Delivery],
                    redelivery: bool = False) -> None:
    now = writer.utcnow()
    action = "transfer.redelivery" if redelivery else "transfer.delivery"
    for delivery in deliveries:
        dbsession.add(Delivery(publication_id=publication.id, at=now, redelivery=redelivery,
                               report=result["report"], **_columns(delivery)))
        writer.append(
            dbsession, plan.actor, action, delivery.destination,
            publications=[publication.id],
            requested_by=[publication.requested_by.username] if publication.requested_by else [],
            approved_by=[publication.approved_by.username] if publication.approved_by else [],
            signing_key_ids=publication.signing_key_ids, sequence=publication.sequence,
            sha256=publication.sha256, size=publication.size, entries=publication.entries,
            host_key_fingerprint=delivery.host_key_fingerprint,
            content_digest=publication.content_digest,
            audit_checkpoint=result.get("audit_checkpoint"),
            pushed_by=result.get("pushed_by", ""),
            result="delivered" if delivery.delivered else "failed", reason=delivery.reason,
            attempts=delivery.attempts, report=result["report"])


def _fail(dbsession, plan: BuildPlan, publication: Publication, reason: str) -> None:
    log.error("publication %s (sequence %s) NOT published: %s", publication.id,
              publication.sequence, reason)
    publication.state, publication.finished_at = FAILED, writer.utcnow()
    writer.append(dbsession, plan.actor, "transfer.failed", f"publication:{publication.id}",
                  sequence=publication.sequence, content_digest=publication.content_digest,
                  reason=reason[:2000])


def _new_checkpoints(dbsession, plan: BuildPlan, handed: Checkpoint | None) -> list[Checkpoint]:
    """Signed checkpoints not yet noted in the chain: the one this process signed, or those
    in the signer's file that verify with the transfer public keys."""
    last = audit_services.last_checkpoint(dbsession)
    noted = (int(last["count"]), str(last["at"])) if last else (-1, "")
    if handed is not None:
        candidates = [handed]
    elif plan.checkpoint_file is not None and plan.checkpoint_keys:
        try:
            candidates = checkpoints.read_file(plan.checkpoint_file, plan.checkpoint_keys)[-1:]
        except checkpoints.CheckpointError as error:
            log.error("signed checkpoints not noted: %s", error)
            return []
    else:
        return []
    return [c for c in candidates if (c.count, c.as_dict()["at"]) > noted]


def _columns(delivery: transports.Delivery) -> dict[str, Any]:
    return {"destination": delivery.destination, "delivered": delivery.delivered,
            "reason": delivery.reason[:2000], "host_key_fingerprint": delivery.host_key_fingerprint,
            "attempts": delivery.attempts}


def _remember_published(dbsession, publication_id: int) -> None:
    """This publication's frozen rows are what residents now read: they are kept, as the
    "before" every later preview and request is compared with (``changes``); the frozen
    rows of every other finished publication are no longer needed."""
    finished = select(Publication.id).where(
        Publication.state.not_in((REQUESTED, APPROVED, SPOOLED)), Publication.id != publication_id)
    dbsession.execute(delete(PublicationRow).where(PublicationRow.publication_id.in_(finished)))
    # Which applications each changed: the builder's, needed no more once it is finished.
    dbsession.execute(delete(PublicationChange).where(PublicationChange.publication_id.in_(
        select(Publication.id).where(Publication.state.not_in((REQUESTED, APPROVED, SPOOLED))))))
