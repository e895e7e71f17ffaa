"""Which publication first carried a change, and when each public host received it.

A publication request freezes every row when it is requested (``publications.content``), so
a change made at ``at`` is in each publication requested at or after ``at``, and in none
requested before. The first *published* such request is the one that carried it to
residents; each public host received it with the first delivery that reached it of that
publication or a later one (a host that missed it gets the same file again, or the next).
A change followed by another before any such request was never on the residents' page;
one made after the programme's lookup ended (or published only after it) never will be.
The frozen rows of old publications are not kept, so the request time is what decides.
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from intranet.publications.models import (
    APPROVED,
    FAILED,
    PUBLISHED,
    REQUESTED,
    SPOOLED,
    Delivery,
    Publication,
)

PENDING = (REQUESTED, APPROVED, SPOOLED)

# What became of a change on the residents' page.
CARRIED, PENDING_REQUEST, NEXT, REPLACED, LOOKUP_ENDED = (
    "carried", "pending", "next", "replaced", "lookup_ended")


@dataclass(frozen=True)
class HostArrival:
    """One public host: the delivery that brought it the change, else the last failure."""

    destination: str
    delivered: Delivery | None
    failed: Delivery | None = None


@dataclass(frozen=True)
class Carriage:
    state: str
    publication: Publication | None = None
    hosts: list[HostArrival] = field(default_factory=list)
    replaced_at: datetime | None = None


class Publications:
    """The publications requested since the story's first change, in request order."""

    def __init__(self, rows: list[Publication], lookup_closed_at: datetime | None):
        self.lookup_closed_at = lookup_closed_at
        self.rows = rows
        self._times = [p.requested_at for p in rows]

    @classmethod
    def since(cls, dbsession, at: datetime | None,
              lookup_closed_at: datetime | None) -> "Publications":
        """Read once per page: those requested at or after ``at`` (none for None)."""
        rows = [] if at is None else list(dbsession.execute(
            select(Publication).where(Publication.requested_at >= at,
                                      Publication.state.in_((PUBLISHED, FAILED, *PENDING)))
            .order_by(Publication.requested_at, Publication.id)).scalars())
        return cls(rows, lookup_closed_at)

    def carriage(self, at: datetime, replaced_at: datetime | None = None) -> Carriage:
        """What became of a change made at ``at``; ``replaced_at``: when the application's
        next change that residents read was made (None: none since)."""
        closed = self.lookup_closed_at
        if closed is not None and at >= closed:
            return Carriage(LOOKUP_ENDED)
        after = self.rows[bisect_left(self._times, at):]
        carrier = next((p for p in after if p.state == PUBLISHED), None)
        if carrier is not None and closed is not None and carrier.requested_at >= closed:
            return Carriage(LOOKUP_ENDED)
        if replaced_at is not None and (carrier is None or replaced_at <= carrier.requested_at):
            return Carriage(REPLACED, replaced_at=replaced_at)
        if carrier is None:
            pending = next((p for p in after if p.state in PENDING), None)
            return Carriage(PENDING_REQUEST if pending else NEXT, pending)
        return Carriage(CARRIED, carrier, _arrivals([p for p in after if p.state == PUBLISHED]))


def _arrivals(carriers: list[Publication]) -> list[HostArrival]:
    """Per destination, in the order they were first tried: the first delivery that
    reached it among the publications carrying the change, else its latest failure."""
    reached: dict[str, Delivery] = {}
    failed: dict[str, Delivery] = {}
    order: list[str] = []
    deliveries = sorted((d for p in carriers for d in p.deliveries), key=lambda d: (d.at, d.id))
    for delivery in deliveries:
        if delivery.destination not in order:
            order.append(delivery.destination)
        if delivery.delivered:
            reached.setdefault(delivery.destination, delivery)
        elif delivery.destination not in reached:
            failed[delivery.destination] = delivery
    return [HostArrival(d, reached.get(d), None if d in reached else failed.get(d))
            for d in order]
