"""The transfer job (``shinsei-transfer publish``): take the approved publication, sign
exactly the content that was approved, push it to every destination, and record each
attempt — in the publication and in the audit chain.

What is approved is what is published: the snapshot is built from the request's frozen
rows and wording after their digest is reproduced (intranet.publications.build); a run
with nothing approved publishes nothing, timer or not. Every run also signs a checkpoint
of the audit chain, which the snapshot header carries to every public host.

Runs as its own OS user, the only one that can read the signing key. Three short
transactions: read and mark what is to be published; build (read-only); after the push,
record the outcome. The push itself holds no database transaction open.
"""

import getpass
import hashlib
import logging
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import transaction
from sqlalchemy import delete, func, insert, select

from intranet.applications.models import Application
from intranet.audit import services as audit_services
from intranet.audit import writer
from intranet.db import get_tm_session
from intranet.programmes.models import Programme
from intranet.publications.build import ContentMismatch, build_publication
from intranet.publications.models import (
    APPROVED,
    FAILED,
    PUBLISHED,
    REQUESTED,
    SUPERSEDED,
    Delivery,
    Publication,
    PublicationRow,
    PublishedStatus,
)
from transfer import transports
from transfer.config import Settings, transfer_settings
from transfer.keys import SigningKey
from transfer.transports import Destination, deliver_all
from transfer.verify import Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishPlan:
    signing_keys: list[SigningKey]
    lookup_secret: bytes
    origin: Origin
    destinations: list[Destination]
    valid_for: timedelta
    actor: writer.Actor
    # Where signed audit checkpoints are appended (audit.checkpoint_file); None: only in
    # the chain and the snapshot header.
    checkpoint_file: Path | None = None
    # With four eyes (the default) an approval by the requester is refused here too.
    four_eyes: bool = True


def plan_from_settings(settings: Settings) -> PublishPlan:
    """Keys, origin and destinations from ``transfer.*``; the job's identity from the OS.

    Raises ``transfer.config.TransferConfigError`` naming the setting that is wrong."""
    read = transfer_settings(settings)
    return PublishPlan(
        signing_keys=read.signing_keys, lookup_secret=read.lookup_secret, origin=read.origin,
        destinations=read.destinations, valid_for=read.valid_for,
        actor=writer.Actor(name="transfer", role="transfer", host=socket.gethostname(),
                           os_user=getpass.getuser()),
        checkpoint_file=Path(settings["audit.checkpoint_file"])
        if settings.get("audit.checkpoint_file") else None,
        four_eyes=str(settings.get("publication.four_eyes", "true")).lower()
        not in ("false", "0", "no", "off"))


def publish(session_factory, plan: PublishPlan, scheduled: bool = False):
    """Publish once; return (publication ids, deliveries), or ([], []) if nothing to do.

    ``scheduled`` (the timer's run) changes nothing: it too publishes approved requests
    only — a run without one signs its audit checkpoint and stops.
    """
    publication_id = _take_approved(session_factory, plan)
    checkpoint = _checkpoint(session_factory, plan)
    if publication_id is None:
        log.info("nothing to publish: no approved request%s",
                 " (scheduled run)" if scheduled else "")
        return [], []
    try:
        with transaction.manager:
            dbsession = get_tm_session(session_factory, transaction.manager)
            result = build_publication(
                dbsession, dbsession.get(Publication, publication_id),
                signing_keys=plan.signing_keys, lookup_secret=plan.lookup_secret,
                origin=plan.origin, sequence=_next_sequence(dbsession),
                now=datetime.now(UTC).replace(microsecond=0), valid_for=plan.valid_for,
                checkpoint=checkpoint)
    except ContentMismatch as refused:
        _refuse(session_factory, plan, publication_id, str(refused))
        return [publication_id], []
    ids = [publication_id]
    header = result.header
    deliveries = deliver_all(plan.destinations, f"snapshot-{header['sequence']}.bin", result.data)
    _record(session_factory, plan, ids, result, deliveries)
    _log_outcome(header["sequence"], deliveries)
    return ids, deliveries


def _checkpoint(session_factory, plan: PublishPlan):
    """Sign the audit head (every run, published or not) with the job's first key."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        return audit_services.take_checkpoint(dbsession, plan.actor, plan.signing_keys[0],
                                              plan.checkpoint_file)


def _refuse(session_factory, plan, publication_id: int, reason: str) -> None:
    log.error("publication %s NOT published: %s", publication_id, reason)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        publication = dbsession.get(Publication, publication_id)
        publication.state, publication.finished_at = FAILED, writer.utcnow()
        writer.append(dbsession, plan.actor, "publication.refused",
                      f"publication:{publication_id}", reason=reason,
                      content_digest=publication.content_digest,
                      approved_digest=publication.approved_digest)


def _log_outcome(sequence: int, deliveries: list[transports.Delivery]) -> None:
    """What the operator needs: which destination failed and why (never an entry)."""
    for delivery in deliveries:
        if delivery.delivered:
            log.info("snapshot %s delivered to %s (attempts: %s)", sequence,
                     delivery.destination, delivery.attempts)
        else:
            log.error("snapshot %s NOT delivered to %s after %s attempt(s): %s", sequence,
                      delivery.destination, delivery.attempts, delivery.reason)


def _take_approved(session_factory, plan: PublishPlan) -> int | None:
    """The latest approved request, or None. Older approved ones are superseded by it (its
    content is newer); one approved by its own requester is refused under four eyes."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        approved = dbsession.execute(select(Publication).where(Publication.state == APPROVED)
                                     .order_by(Publication.id)
                                     .with_for_update(of=Publication)).scalars().all()
        valid = []
        for publication in approved:
            if plan.four_eyes and publication.approved_by_id in (None,
                                                                 publication.requested_by_id):
                publication.state, publication.finished_at = FAILED, writer.utcnow()
                writer.append(dbsession, plan.actor, "publication.refused",
                              f"publication:{publication.id}",
                              reason="not approved by a second person")
                continue
            valid.append(publication)
        for older in valid[:-1]:
            older.state, older.finished_at = SUPERSEDED, writer.utcnow()
            writer.append(dbsession, plan.actor, "publication.superseded",
                          f"publication:{older.id}", by=valid[-1].id)
        return valid[-1].id if valid else None


def _next_sequence(dbsession) -> int:
    # Unix time survives a database restore; "+1" keeps it strictly increasing regardless.
    last = dbsession.execute(select(func.max(Publication.sequence))).scalar_one() or 0
    return max(last + 1, int(time.time()))


def _record(session_factory, plan, ids, result, deliveries):
    header = result.header
    key_ids = ",".join(key.key_id for key in plan.signing_keys)
    delivered_any = any(d.delivered for d in deliveries)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        publications = dbsession.execute(
            select(Publication).where(Publication.id.in_(ids))).scalars().all()
        now = writer.utcnow()
        for publication in publications:
            publication.state = PUBLISHED if delivered_any else FAILED
            publication.sequence, publication.size = header["sequence"], len(result.data)
            publication.sha256 = hashlib.sha256(result.data).hexdigest()
            publication.entries, publication.signing_key_ids = header["entry_count"], key_ids
            publication.finished_at = now
        for delivery in deliveries:
            dbsession.add(Delivery(publication_id=ids[-1], at=now, **_columns(delivery)))
            writer.append(
                dbsession, plan.actor, "transfer.delivery", delivery.destination,
                publications=ids,
                requested_by=sorted({p.requested_by.username for p in publications
                                     if p.requested_by}),
                approved_by=sorted({p.approved_by.username for p in publications
                                    if p.approved_by}),
                signing_key_ids=key_ids, sequence=header["sequence"],
                sha256=publications[0].sha256, size=len(result.data),
                entries=header["entry_count"], host_key_fingerprint=delivery.host_key_fingerprint,
                content_digest=header["content_digest"],
                audit_checkpoint=header.get("audit_checkpoint", {}).get("count"),
                result="delivered" if delivery.delivered else "failed", reason=delivery.reason,
                attempts=delivery.attempts)
        if delivered_any:
            _remember_published(dbsession, ids[-1])


def _columns(delivery):
    return {"destination": delivery.destination, "delivered": delivery.delivered,
            "reason": delivery.reason[:2000], "host_key_fingerprint": delivery.host_key_fingerprint,
            "attempts": delivery.attempts}


def _remember_published(dbsession, publication_id: int):
    """What residents now see — the published frozen rows — is the "before" of the next
    preview; frozen rows of finished publications are then no longer needed."""
    dbsession.execute(delete(PublishedStatus))
    dbsession.execute(insert(PublishedStatus).from_select(
        ["application_id", "status_code", "scheduled_payment_on", "paid_on"],
        select(Application.id, PublicationRow.status_code, PublicationRow.scheduled_payment_on,
               PublicationRow.paid_on)
        .join(Programme, Programme.id == Application.programme_id)
        .join(PublicationRow, (PublicationRow.receipt == Application.receipt_number_normalised)
              & (PublicationRow.programme_code == Programme.code))
        .where(PublicationRow.publication_id == publication_id)))
    finished = select(Publication.id).where(Publication.state.not_in((REQUESTED, APPROVED)))
    dbsession.execute(delete(PublicationRow).where(PublicationRow.publication_id.in_(finished)))
