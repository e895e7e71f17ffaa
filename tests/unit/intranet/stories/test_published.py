"""What became of a change on the residents' page: the first published request made at or
after it, each host's first arrival, or why there is none."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from intranet.stories import published

T0 = datetime(2026, 12, 1, 1, 0)


def _publication(pid, minutes, state="published", deliveries=()):
    return SimpleNamespace(id=pid, requested_at=T0 + timedelta(minutes=minutes), state=state,
                           deliveries=list(deliveries))


def _delivery(did, minutes, destination, delivered, redelivery=False):
    return SimpleNamespace(id=did, at=T0 + timedelta(minutes=minutes), destination=destination,
                           delivered=delivered, redelivery=redelivery)


def test_the_first_published_request_after_the_change_carries_it():
    a = _publication(1, 5, deliveries=[_delivery(1, 6, "sftp://a", True),
                                       _delivery(2, 6, "sftp://b", False)])
    b = _publication(2, 30, deliveries=[_delivery(3, 31, "sftp://a", True),
                                        _delivery(4, 31, "sftp://b", True)])
    found = published.Publications([a, b], None).carriage(T0 + timedelta(minutes=1))
    assert found.state == published.CARRIED and found.publication is a
    arrivals = {h.destination: h for h in found.hosts}
    assert arrivals["sftp://a"].delivered.id == 1
    # The host that missed the first received the change with the next publication.
    assert arrivals["sftp://b"].delivered.id == 4


def test_a_request_before_the_change_does_not_carry_it():
    earlier = _publication(1, 0)
    found = published.Publications([earlier], None).carriage(T0 + timedelta(minutes=1))
    assert found.state == published.NEXT


def test_a_pending_request_is_named_and_a_rejected_one_is_not_read():
    pending = _publication(3, 10, state="approved")
    found = published.Publications([pending], None).carriage(T0)
    assert found.state == published.PENDING_REQUEST and found.publication is pending


def test_a_change_replaced_before_any_request_never_showed():
    later = _publication(1, 10)
    found = published.Publications([later], None).carriage(T0, T0 + timedelta(minutes=5))
    assert found.state == published.REPLACED
    # Replaced only after the request froze it: it was published.
    found = published.Publications([later], None).carriage(T0, T0 + timedelta(minutes=20))
    assert found.state == published.CARRIED


def test_after_the_lookup_ended_nothing_is_carried():
    closed = T0 + timedelta(minutes=3)
    late = _publication(1, 10)
    assert published.Publications([late], closed).carriage(T0).state == published.LOOKUP_ENDED
    assert published.Publications([late], closed).carriage(closed).state == \
        published.LOOKUP_ENDED


def test_a_host_never_reached_shows_its_last_failure():
    p = _publication(1, 5, deliveries=[_delivery(1, 6, "outbox:/x", False),
                                       _delivery(2, 60, "outbox:/x", False)])
    [host] = published.Publications([p], None).carriage(T0).hosts
    assert host.delivered is None and host.failed.id == 2
