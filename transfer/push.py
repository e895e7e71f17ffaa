"""The pusher (``shinsei-transfer push-outbox``): the only step that talks to the internet.

It reads ``signed/`` and nothing else of the publication: no database credentials, no
signing key, no lookup key (``transfer.push_config`` refuses a configuration naming them).
Before anything is sent, the file must verify against the trusted public keys and origin,
exactly as a public host would verify it — so even a pusher handed a file by someone else
sends only what the signer signed. What happened at each destination goes to
``results/result.json``, which the recorder (the builder's user, who has the database)
puts in the publication and the audit chain: the pusher itself never writes there.
"""

import dataclasses
import getpass
import hashlib
import logging
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transfer import errors, spool
from transfer.transports import Destination, deliver_all
from transfer.verify import TrustPolicy, verify_snapshot

log = logging.getLogger(__name__)


def push_signed(root: Path, destinations: list[Destination], policy: TrustPolicy,
                now: datetime | None = None) -> dict[str, Any] | None:
    """Push the newest signed snapshot to every destination once; the result written to
    ``results/`` (also returned). None when nothing is signed or it was pushed already."""
    folders = spool.directories(root)
    newest = spool.newest_signed(folders[spool.SIGNED])
    if newest is None:
        log.info("nothing signed to push")
        return None
    sequence, path = newest
    try:
        previous = spool.read_result(folders[spool.RESULTS])
    except spool.SpoolRefused as damaged:
        log.warning("own earlier result unreadable, pushing again: %s", damaged)
        previous = None
    if previous is not None and previous["sequence"] == sequence:
        log.info("%s was pushed already (%s)", path.name, "verified" if previous["verified"]
                 else previous["reason"])
        return None
    try:
        data = spool.read_capped(path, policy.max_size)
        snapshot = verify_snapshot(data, policy, last_sequence=None,
                                   now=now or datetime.now(UTC))
    except (spool.SpoolRefused, errors.SnapshotError) as refused:
        reason = f"{type(refused).__name__}: {refused}"
        log.error("%s NOT pushed: it does not verify as a signed snapshot (%s)", path.name, reason)
        result: dict[str, Any] = {"sequence": sequence, "verified": False, "reason": reason[:4000],
                                  "deliveries": []}
        spool.write_result(folders[spool.RESULTS], result)
        return result
    header = snapshot.header
    deliveries = deliver_all(destinations, path.name, data)
    result = {
        "sequence": sequence, "verified": True, "reason": "",
        "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
        "entries": header["entry_count"], "signing_key_ids": sorted(snapshot.signed_by),
        "content_digest": str(header.get("content_digest", "")),
        "audit_checkpoint": (header.get("audit_checkpoint") or {}).get("count"),
        "pushed_by": f"{getpass.getuser()}@{socket.gethostname()}",
        "deliveries": [{**dataclasses.asdict(d), "reason": d.reason[:2000]} for d in deliveries],
    }
    spool.write_result(folders[spool.RESULTS], result)
    for delivery in deliveries:
        if delivery.delivered:
            log.info("%s delivered to %s (attempts: %s)", path.name, delivery.destination,
                     delivery.attempts)
        else:
            log.error("%s NOT delivered to %s after %s attempt(s): %s", path.name,
                      delivery.destination, delivery.attempts, delivery.reason)
    return result
