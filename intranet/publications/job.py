"""The transfer job (``shinsei-transfer publish``): take approved publications, build and
sign one snapshot, push it to every destination, and record each attempt — in the
publication and in the audit chain.

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

import transaction
from sqlalchemy import delete, func, insert, select

from intranet.applications.models import Application
from intranet.audit import writer
from intranet.db import get_tm_session
from intranet.publications.build import build_snapshot
from intranet.publications.models import (
    APPROVED,
    FAILED,
    PUBLISHED,
    Delivery,
    Publication,
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


def plan_from_settings(settings: Settings) -> PublishPlan:
    """Keys, origin and destinations from ``transfer.*``; the job's identity from the OS.

    Raises ``transfer.config.TransferConfigError`` naming the setting that is wrong."""
    read = transfer_settings(settings)
    return PublishPlan(
        signing_keys=read.signing_keys, lookup_secret=read.lookup_secret, origin=read.origin,
        destinations=read.destinations, valid_for=read.valid_for,
        actor=writer.Actor(name="transfer", role="transfer", host=socket.gethostname(),
                           os_user=getpass.getuser()))


def publish(session_factory, plan: PublishPlan, scheduled: bool = False):
    """Publish once; return (publication ids, deliveries), or ([], []) if nothing to do."""
    ids = _take_approved(session_factory, plan.actor, scheduled)
    if not ids:
        log.info("nothing to publish: no approved request")
        return [], []
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        result = build_snapshot(dbsession, signing_keys=plan.signing_keys,
                                lookup_secret=plan.lookup_secret, origin=plan.origin,
                                sequence=_next_sequence(dbsession),
                                now=datetime.now(UTC).replace(microsecond=0),
                                valid_for=plan.valid_for)
    header = result.header
    deliveries = deliver_all(plan.destinations, f"snapshot-{header['sequence']}.bin", result.data)
    _record(session_factory, plan, ids, result, deliveries)
    _log_outcome(header["sequence"], deliveries)
    return ids, deliveries


def _log_outcome(sequence: int, deliveries: list[transports.Delivery]) -> None:
    """What the operator needs: which destination failed and why (never an entry)."""
    for delivery in deliveries:
        if delivery.delivered:
            log.info("snapshot %s delivered to %s (attempts: %s)", sequence,
                     delivery.destination, delivery.attempts)
        else:
            log.error("snapshot %s NOT delivered to %s after %s attempt(s): %s", sequence,
                      delivery.destination, delivery.attempts, delivery.reason)


def _take_approved(session_factory, actor, scheduled):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        pending = dbsession.execute(select(Publication.id).where(Publication.state == APPROVED)
                                    .with_for_update()).scalars().all()
        if pending:
            return list(pending)
        if scheduled:
            now = writer.utcnow()
            pending = [Publication(state=APPROVED, requested_at=now, approved_at=now,
                                   note="scheduled")]
            dbsession.add_all(pending)
            dbsession.flush()
            writer.append(dbsession, actor, "publication.scheduled",
                          f"publication:{pending[0].id}")
            return [pending[0].id]
        return []


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
                result="delivered" if delivery.delivered else "failed", reason=delivery.reason,
                attempts=delivery.attempts)
        if delivered_any:
            _remember_published(dbsession)


def _columns(delivery):
    return {"destination": delivery.destination, "delivered": delivery.delivered,
            "reason": delivery.reason[:2000], "host_key_fingerprint": delivery.host_key_fingerprint,
            "attempts": delivery.attempts}


def _remember_published(dbsession):
    """What residents now see: the "before" of the next publication's preview."""
    dbsession.execute(delete(PublishedStatus))
    dbsession.execute(insert(PublishedStatus).from_select(
        ["application_id", "status_code", "scheduled_payment_on", "paid_on"],
        select(Application.id, Application.status_code, Application.scheduled_payment_on,
               Application.paid_on)))
