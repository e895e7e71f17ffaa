"""The one lookup flow, without any web framework: which reply each question gets."""

from datetime import timedelta

import pytest

from public_mirror.ratelimit import RateLimiter
from public_mirror.resident import ResidentDesk
from public_mirror.settings import load
from public_mirror.store import ActiveSnapshot
from public_mirror.usage import UsageCounter


class Counting(UsageCounter):
    def __init__(self):
        super().__init__(directory=None)
        self.seen = []

    def count(self, found, status_code=None, day=None):
        self.seen.append((found, status_code))


def desk(public_host, limit=20, maintenance=False):
    settings = load(dict(public_host.settings))
    return ResidentDesk(snapshots=ActiveSnapshot(settings["mirror.paths"].active,
                                                 settings["mirror.trust"]),
                        secret=settings["mirror.lookup_secret"], limiter=RateLimiter(limit, 300),
                        usage=Counting(), languages=["ja", "en", "ja-easy"],
                        maintenance=maintenance)


@pytest.mark.parametrize("params, kind, status", [
    ({"programme": "p2020", "receipt_number": "0000-0002"}, "found", 200),
    ({"programme": "p2020", "receipt_number": "00000099"}, "not_found", 200),
    ({"programme": "p2020", "receipt_number": ""}, "invalid", 400),
    ({"programme": "p2024", "receipt_number": "00000001", "birth_year": "99999999999"},
     "invalid", 400),
])
def test_kinds_of_reply(public_host, params, kind, status):
    public_host.publish()
    reply = desk(public_host).ask(params, "198.51.100.1")
    assert (reply.kind, reply.status) == (kind, status)


def test_unreadable_request_is_invalid_with_a_body_error(public_host):
    public_host.publish()
    reply = desk(public_host).ask(None, "198.51.100.1")
    assert reply.kind == "invalid" and "body" in reply.errors


def test_only_answers_are_counted_and_nothing_of_the_question_is_kept(public_host):
    public_host.publish()
    resident = desk(public_host)
    reply = resident.ask({"programme": "p2020", "receipt_number": "00000002"}, "198.51.100.1")
    resident.ask({"programme": "p2020", "receipt_number": "x"}, "198.51.100.1")
    assert resident.usage.seen == [(True, "payment_scheduled")]
    assert "00000002" not in repr(reply.cache_key)


def test_not_now_replies(public_host):
    assert desk(public_host).ask({}, "a").kind == "updating"
    public_host.publish()
    assert desk(public_host, maintenance=True).ask({}, "a").kind == "maintenance"


def test_expired_snapshot_is_updating(public_host):
    public_host.publish(valid=timedelta(seconds=1))
    import time

    time.sleep(1.1)
    assert desk(public_host).ask({"receipt_number": "00000002"}, "a").kind == "updating"


def test_rate_limit_comes_before_reading(public_host):
    public_host.publish()
    resident = desk(public_host, limit=1)
    resident.ask({"receipt_number": "x"}, "a")
    reply = resident.ask({"programme": "p2020", "receipt_number": "00000002"}, "a")
    assert reply.kind == "rate_limited" and reply.retry_after > 0


def test_language_is_one_of_the_configured(public_host):
    public_host.publish()
    resident = desk(public_host)
    for odd in ("EN", "en\n", "../en", ["en"], None):
        assert resident.ask({"lang": odd, "receipt_number": "00000002"}, "a").lang == "ja"
    assert resident.ask({"lang": "ja-easy", "receipt_number": "00000002"}, "a").lang == "ja-easy"


def test_probe_looks_up_a_real_entry(public_host):
    public_host.publish()
    resident = desk(public_host)
    found, missing = resident.probe(resident.snapshots.current())
    assert found.kind == "found" and found.answer.status and missing.kind == "not_found"
    assert resident.usage.seen == []
