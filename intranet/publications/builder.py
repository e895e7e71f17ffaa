"""The builder (``shinsei-transfer build-spool``): the only step that reads the database.

It takes the latest approved request (refusing one approved by its own requester under four
eyes, superseding older ones), reproduces its digest from the frozen rows, and writes the
unsigned table — keyed hashes, status codes, dates, the frozen wording — to ``built/`` for
the signer, with the audit head the signer is to sign. It holds the lookup key (the hashes
are made here, so no receipt number or birth date leaves this step) but never the signing
key, and its unit may open no socket but a Unix one (PostgreSQL's).

A run with nothing approved still writes a spool: the audit head alone, so that every run
signs a checkpoint, as before the steps were split — and the current publication, for a
public host that missed it (``intranet.publications.catchup``).
"""

import getpass
import logging
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import transaction
from sqlalchemy import func, select

from intranet.audit import services as audit_services
from intranet.audit import writer
from intranet.db import get_tm_session
from intranet.publications import catchup
from intranet.publications.build import ContentMismatch, prepare, table_of_publication
from intranet.publications.models import (
    APPROVED,
    FAILED,
    REQUESTED,
    SPOOLED,
    SUPERSEDED,
    Publication,
)
from intranet.publications.services import newer_approved
from transfer import spool
from transfer.checkpoints import Checkpoint
from transfer.snapshot import parse_time
from transfer.verify import Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildPlan:
    """What the builder and the recorder (the same OS user) need: no signing key."""

    lookup_secret: bytes
    origin: Origin
    valid_for: timedelta
    actor: writer.Actor = field(default_factory=lambda: job_actor())
    # With four eyes (the default) an approval by the requester is refused here too.
    four_eyes: bool = True
    # The signer's checkpoint file and the public keys it is checked with: the recorder notes
    # each new signed checkpoint in the chain (None: only the one a run hands over).
    checkpoint_file: Path | None = None
    checkpoint_keys: list = field(default_factory=list)
    # The configured destinations' names (transfer.destinations): a pusher's report naming
    # any other is refused, and audited, by the recorder.
    destinations: tuple[str, ...] = ()


def job_actor() -> writer.Actor:
    return writer.Actor(name="transfer", role="transfer", host=socket.gethostname(),
                        os_user=getpass.getuser())


@dataclass(frozen=True)
class Spooled:
    publication_id: int | None = None
    refused: str = ""          # the approved request was refused; nothing to sign
    # Nothing new: the current publication, named for hosts that missed it.
    catch_up: dict | None = None


def build_spool(session_factory, plan: BuildPlan, root: Path) -> Spooled:
    """Write ``root/built`` for this run; what an earlier run's pusher reported is recorded
    first (by the caller: ``recorder.record_results``)."""
    built = spool.directories(root)[spool.BUILT]
    publication_id = _take_approved(session_factory, plan)
    if publication_id is None:
        prepare_waiting(session_factory, plan, built)
        current = _catch_up(session_factory)
        _write(built, None, _audit_head(session_factory), catch_up=current)
        return Spooled(catch_up=current)
    try:
        with transaction.manager:
            dbsession = get_tm_session(session_factory, transaction.manager)
            publication = dbsession.get(Publication, publication_id)
            sequence = _next_sequence(dbsession)
            table = table_of_publication(
                dbsession, publication, lookup_secret=plan.lookup_secret, origin=plan.origin,
                sequence=sequence, now=datetime.now(UTC).replace(microsecond=0),
                valid_for=plan.valid_for, cache=built)
            publication.state, publication.sequence = SPOOLED, sequence
            publication.entries = table.entry_count
            publication.built_at = _stored(table.header["created_at"])
            publication.expires_at = _stored(table.header["expires_at"])
            writer.append(dbsession, plan.actor, "publication.spooled",
                          f"publication:{publication_id}", sequence=sequence,
                          entries=table.entry_count, content_digest=publication.content_digest)
    except ContentMismatch as refused:
        _refuse(session_factory, plan, publication_id, str(refused))
        current = _catch_up(session_factory)
        _write(built, None, _audit_head(session_factory), catch_up=current)
        return Spooled(publication_id, refused=str(refused), catch_up=current)
    _write(built, table, _audit_head(session_factory),
           {"id": publication_id, "content_digest": table.header["content_digest"]})
    log.info("publication %s spooled for signing: sequence %s, %s entries", publication_id,
             sequence, table.entry_count)
    return Spooled(publication_id)


def prepare_waiting(session_factory, plan: BuildPlan, built: Path) -> int | None:
    """The newest request still waiting for its approval: its table made now and kept in
    the builder's cache (``build.prepare``), so that the build its approval starts reads
    no frozen row. ``shinsei-transfer prepare-spool`` does it when a request is made
    (shinsei-transfer-requested.path), and so does any run of the publication that finds
    nothing approved. Nothing about the request changes and nothing is spooled for it; rows
    that no longer reproduce its digest are logged here and refused, audited, when it is
    approved (the build then reads them). Returns the request's id if its table is kept."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        waiting = dbsession.execute(select(Publication).where(Publication.state == REQUESTED)
                                    .order_by(Publication.id.desc()).limit(1)).scalar()
        if waiting is None:
            return None
        try:
            prepare(dbsession, waiting, lookup_secret=plan.lookup_secret, cache=built)
        except ContentMismatch as refused:
            log.error("publication %s not prepared: %s", waiting.id, refused)
            return None
        return waiting.id


def _write(built: Path, table, head: Checkpoint, publication=None, catch_up=None) -> None:
    spool.write_built(built, header=table and table.header, body=table.body if table else b"",
                      entry_count=table.entry_count if table else 0,
                      skipped=table.skipped if table else 0, publication=publication,
                      checkpoint=head.as_dict(), catch_up=catch_up)


def _catch_up(session_factory) -> dict | None:
    with transaction.manager:
        return catchup.plan(get_tm_session(session_factory, transaction.manager))


def _stored(header_time: str) -> datetime:
    """A header's time as the timestamp columns hold one: naive UTC."""
    return parse_time(header_time).replace(tzinfo=None)


def _audit_head(session_factory) -> Checkpoint:
    with transaction.manager:
        return audit_services.head_to_sign(get_tm_session(session_factory, transaction.manager))


def _refuse(session_factory, plan: BuildPlan, publication_id: int, reason: str) -> None:
    log.error("publication %s NOT published: %s", publication_id, reason)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        publication = dbsession.get(Publication, publication_id)
        publication.state, publication.finished_at = FAILED, writer.utcnow()
        writer.append(dbsession, plan.actor, "publication.refused",
                      f"publication:{publication_id}", reason=reason,
                      content_digest=publication.content_digest,
                      approved_digest=publication.approved_digest)


def _take_approved(session_factory, plan: BuildPlan) -> int | None:
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
        if valid and (newer := newer_approved(dbsession, valid[-1].id)) is not None:
            # Approved past the approval screen's check (e.g. in the database by hand):
            # its content is older than what residents may already see.
            valid[-1].state, valid[-1].finished_at = FAILED, writer.utcnow()
            writer.append(dbsession, plan.actor, "publication.refused",
                          f"publication:{valid[-1].id}", reason=f"older than publication {newer}")
            return None
        return valid[-1].id if valid else None


def _next_sequence(dbsession) -> int:
    # Unix time survives a database restore; "+1" keeps it strictly increasing regardless.
    last = dbsession.execute(select(func.max(Publication.sequence))).scalar_one() or 0
    return max(last + 1, int(time.time()))
