"""The pusher (``shinsei-transfer push-outbox``): the only step that talks to the internet.

It reads ``signed/`` and nothing else of the publication: no database credentials, no
signing key, no lookup key (``transfer.push_config`` refuses a configuration naming them).
Before anything is sent, the file must verify against the trusted public keys and origin,
exactly as a public host would verify it — so even a pusher handed a file by someone else
sends only what the signer signed. What happened at each destination goes to
``results/result.json``, which the recorder (the builder's user, who has the database)
puts in the publication and the audit chain: the pusher itself never writes there.

A destination that missed the current publication gets the same file on a later run, by the
plan the signer leaves beside it (``catch-up.json``, see ``transfer.spool``); none is ever
sent an older sequence than it is recorded to hold.
"""

import getpass
import hashlib
import logging
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transfer import errors, spool
from transfer.transports import Delivery, Destination, deliver_all
from transfer.verify import TrustPolicy, verify_snapshot

log = logging.getLogger(__name__)


# How many of the highest-numbered files are tried before giving up: the signer keeps one.
MAX_CANDIDATES = 8


@dataclass
class Chosen:
    """The newest signed file that verifies, read once; the higher-numbered ones that did
    not (planted or damaged), each with why; or, if none verifies, the highest's refusal."""

    sequence: int
    path: Path
    data: bytes = b""
    snapshot: Any = None
    refusal: str = ""
    passed_over: list[str] = field(default_factory=list)


def push_signed(root: Path, destinations: list[Destination], policy: TrustPolicy,
                now: datetime | None = None) -> dict[str, Any] | None:
    """Push the newest signed snapshot to every destination once; then, on later runs, the
    same file to each destination the catch-up plan says holds an older one. The result is
    written to ``results/`` (also returned); None when there was nothing to send.

    Only a file that verifies is believed about its sequence: a file planted in ``signed/``
    under a higher number is passed over (logged and named in the report), never let block
    the genuine one. Never backwards: a signed file older than one verified and pushed
    before is not pushed at all, and a destination recorded as holding a newer sequence is
    not sent an older one."""
    folders = spool.directories(root)
    chosen = _newest_verified(folders[spool.SIGNED], policy, now or datetime.now(UTC))
    if chosen is None:
        log.info("nothing signed to push")
        return None
    sequence, path = chosen.sequence, chosen.path
    try:
        previous = spool.read_result(folders[spool.RESULTS])
    except spool.SpoolRefused as damaged:
        log.warning("own earlier result unreadable, pushing again: %s", damaged)
        previous = None
    # An unverified report sent nothing: its sequence (perhaps a planted file's) binds nothing.
    if previous is not None and previous["verified"] and previous["sequence"] > sequence:
        log.error("%s NOT pushed: sequence %s was pushed before and is newer (never backwards)",
                  path.name, previous["sequence"])
        return None
    try:
        plan = spool.read_catch_up(folders[spool.SIGNED])
    except spool.SpoolRefused as refused:
        log.error("catch-up plan refused, nothing sent again: %s", refused)
        return None
    if plan is not None and plan["sequence"] == sequence:
        # Sent before (the intranet recorded it): again only where it is missing — whatever
        # this step's own last report says, which may be unreadable or another run's.
        missed = _missed(plan, sequence, destinations)
        if not missed:
            log.info("%s: every destination holds it already", path.name)
            return None
        return _push(folders, chosen, missed, spool.REDELIVERY)
    if previous is not None and previous["sequence"] == sequence:
        log.info("%s was pushed already (%s)", path.name, "verified" if previous["verified"]
                 else previous["reason"])
        return None
    return _push(folders, chosen, destinations, spool.DELIVERY)


def _newest_verified(folder: Path, policy: TrustPolicy, now: datetime) -> Chosen | None:
    """Highest-numbered first, each read (capped, no link followed) and verified exactly as
    a public host would, and its header's sequence held to its name."""
    candidates = spool.signed_files(folder)
    if not candidates:
        return None
    passed_over: list[str] = []
    for sequence, path in candidates[:MAX_CANDIDATES]:
        try:
            data = spool.read_capped(path, policy.max_size)
            snapshot = verify_snapshot(data, policy, last_sequence=None, now=now)
            if snapshot.sequence != sequence:
                raise errors.MalformedSnapshot(f"its header says sequence {snapshot.sequence}")
        except (spool.SpoolRefused, errors.SnapshotError) as refused:
            reason = f"{type(refused).__name__}: {refused}"
            log.error("%s NOT pushed: it does not verify as a signed snapshot (%s)",
                      path.name, reason)
            passed_over.append(f"{path.name}: {reason}"[:500])
            continue
        return Chosen(sequence, path, data, snapshot, passed_over=passed_over)
    sequence, path = candidates[0]
    return Chosen(sequence, path, refusal=passed_over[0].split(": ", 1)[1])


def _missed(plan: dict[str, Any], sequence: int,
            destinations: list[Destination]) -> list[Destination]:
    """The destinations that, by the catch-up plan, hold an older sequence than ``sequence``
    (or none at all); one holding a newer sequence is named and left alone."""
    missed = []
    for destination in destinations:
        held = plan["held"].get(destination.name, 0)
        if held > sequence:
            log.warning("%s holds sequence %s, newer than %s: not sent (never backwards)",
                        destination.name, held, sequence)
        elif held < sequence:
            missed.append(destination)
    return missed


def _reported(results: Path, number: int, delivery: Delivery) -> dict[str, Any]:
    """One destination's line of the report; the usage counts it fetched (if any) are kept
    unread beside the report, named by the line's number, for the recorder to check."""
    line = {name: getattr(delivery, name) for name in spool.DELIVERY_FIELDS}
    line["reason"] = delivery.reason[:2000]
    if delivery.usage is not None:
        line["usage"] = spool.write_usage(results, number, delivery.usage)
    elif delivery.usage_reason:
        line["usage"] = {"reason": delivery.usage_reason[:500]}
    return line


def _push(folders: dict[str, Path], chosen: Chosen, destinations: list[Destination],
          kind: str) -> dict[str, Any]:
    report, path, sequence = secrets.token_hex(16), chosen.path, chosen.sequence
    if chosen.snapshot is None:
        reason = chosen.refusal
        # A re-delivery refused (the file has expired since) still names each host that
        # missed the publication, so the screens say it was not caught up, and why.
        not_sent = [] if kind == spool.DELIVERY else [
            {"destination": d.name, "delivered": False, "attempts": 0,
             "reason": f"not sent again: {reason}"[:2000], "host_key_fingerprint": ""}
            for d in destinations]
        result: dict[str, Any] = {"sequence": sequence, "verified": False, "reason": reason[:4000],
                                  "deliveries": not_sent, "kind": kind, "report": report}
        spool.write_result(folders[spool.RESULTS], result)
        return result
    data, snapshot = chosen.data, chosen.snapshot
    header = snapshot.header
    deliveries = deliver_all(destinations, path.name, data)
    spool.clear_usage(folders[spool.RESULTS])   # only this run's fetches are beside its report
    result = {
        "sequence": sequence, "verified": True, "kind": kind, "report": report,
        # Files passed over (planted, damaged): named here so the audit shows them too.
        "reason": ("passed over, not verified: " + "; ".join(chosen.passed_over))[:4000]
        if chosen.passed_over else "",
        "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
        "entries": header["entry_count"], "signing_key_ids": sorted(snapshot.signed_by),
        "content_digest": str(header.get("content_digest", "")),
        "audit_checkpoint": (header.get("audit_checkpoint") or {}).get("count"),
        "pushed_by": f"{getpass.getuser()}@{socket.gethostname()}",
        "deliveries": [_reported(folders[spool.RESULTS], number, d)
                       for number, d in enumerate(deliveries)],
    }
    spool.write_result(folders[spool.RESULTS], result)
    again = " again (same file, for a host that missed it)" if kind == spool.REDELIVERY else ""
    for delivery in deliveries:
        if delivery.delivered:
            log.info("%s delivered%s to %s (attempts: %s)", path.name, again,
                     delivery.destination, delivery.attempts)
        else:
            log.error("%s NOT delivered%s to %s after %s attempt(s): %s", path.name, again,
                      delivery.destination, delivery.attempts, delivery.reason)
    return result
