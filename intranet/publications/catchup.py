"""Catch-up: the current publication again, for a public host that missed it.

A host that was down (or unreachable) when a publication went out would otherwise keep the
older snapshot until a new request is approved. Instead, every run with nothing newly
approved — the timer's, an operator's ``systemctl start shinsei-transfer.service``, the path
unit's — names the current publication to the later steps, with the newest sequence each
destination is recorded to have received:

- the builder (this module) names it: the newest publication whose signed snapshot was sent
  out (delivered somewhere, or tried everywhere and refused only by the transport — an
  approved, signed and verified publication all the same);
- the signer keeps exactly that signed file in ``signed/`` (and nothing else) and puts the
  plan beside it, or says the file is gone;
- the pusher sends **the same bytes** again to every configured destination that holds an
  older sequence (or none), never to one that holds the same or a newer one;
- the recorder records each attempt as a re-delivery of that publication
  (``transfer.redelivery``; 再送 on the 公開 and 転送ログ screens).

Why the same signed file and not a new signature with a new sequence: what residents read
must be what was approved and signed, and the hosts that are up to date must not receive a
"newer" copy of the same content; the public host takes the file because its sequence is
newer than the one it holds. The cost is the snapshot's own expiry: a file past it is not
sent again (the pusher verifies as a public host would and says so), and staff request a
new publication.
"""

from typing import Any

from sqlalchemy import func, select

from intranet.publications.models import Delivery, Publication

# As many destinations as a spool field holds (transfer.spool: 64); the most recent ones.
MAX_DESTINATIONS = 64


def plan(dbsession) -> dict[str, Any] | None:
    """{publication, sequence, content_digest, held: {destination: sequence}}, or None
    when nothing was ever sent."""
    current = dbsession.execute(
        select(Publication).where(Publication.sequence.is_not(None),
                                  Publication.id.in_(select(Delivery.publication_id)))
        .order_by(Publication.sequence.desc()).limit(1)).scalar_one_or_none()
    if current is None:
        return None
    newest = func.max(Publication.sequence)
    held = dbsession.execute(
        select(Delivery.destination, newest).join(Publication)
        .where(Delivery.delivered.is_(True)).group_by(Delivery.destination)
        .order_by(newest.desc()).limit(MAX_DESTINATIONS)).all()
    return {"publication": current.id, "sequence": current.sequence,
            "content_digest": current.content_digest,
            "held": {destination: sequence for destination, sequence in held}}
