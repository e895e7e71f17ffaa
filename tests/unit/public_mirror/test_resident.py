"""The one lookup flow, without any web framework: which reply each question gets."""

from datetime import timedelta

import pytest

from lab.clock import HandClock
from public_mirror.ratelimit import RateLimiter, exempt_networks
from public_mirror.resident import ResidentDesk
from public_mirror.settings import load
from public_mirror.store import ActiveSnapshot
from public_mirror.usage import UsageCounter
from transfer.answer import is_open
from transfer.lookup import lookup_key
from transfer.snapshot import parse_time


class Counting(UsageCounter):
    def __init__(self):
        super().__init__(directory=None)
        self.seen, self.programmes, self.limited = [], [], []

    def count(self, found, status_code=None, day=None, programme=None):
        self.seen.append((found, status_code))
        self.programmes.append(programme)

    def count_limited(self, programme, day=None):
        self.limited.append(programme)


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
    assert resident.usage.programmes == ["p2020"]     # per programme, for the intranet
    assert "00000002" not in repr(reply.cache_key)


def test_not_now_replies(public_host):
    assert desk(public_host).ask({}, "a").kind == "updating"
    public_host.publish()
    assert desk(public_host, maintenance=True).ask({}, "a").kind == "maintenance"


def test_expired_snapshot_is_updating(public_host):
    # An hour, not a second: `created` is cut to the whole second, so a file valid for one
    # second could already be expired when it is received. The test moves the clock itself.
    public_host.publish(valid=timedelta(hours=1))
    resident = desk(public_host)
    question = {"programme": "p2020", "receipt_number": "00000002"}
    expires = parse_time(resident.snapshots.current().header["expires_at"])
    resident.clock = lambda: expires - timedelta(microseconds=1)
    assert resident.ask(question, "a").kind == "found"
    resident.clock = lambda: expires                    # the moment it expires: not shown
    assert resident.ask(question, "a").kind == "updating"


def test_rate_limit_comes_before_reading(public_host):
    public_host.publish()
    resident = desk(public_host, limit=1)
    resident.ask({"programme": "p2020", "receipt_number": "90000009"}, "a")   # one failure
    reply = resident.ask({"programme": "p2020", "receipt_number": "00000002"}, "a")
    assert reply.kind == "rate_limited" and reply.retry_after > 0
    # Refused, counted as limited for its programme, not as a lookup.
    assert resident.usage.limited == ["p2020"] and resident.usage.seen == [(False, None)]


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


def reference_ask(resident, params, client):
    """The flow as it was before the limiter was consulted once per request (check first,
    then a separate fail for a not-found answer): the reference the one-step flow keeps."""
    from public_mirror import lookup
    from public_mirror.ratelimit import is_exempt
    from public_mirror.repeat import FIELD
    from public_mirror.resident import BODY_INVALID, Reply

    lang = resident.language(params.get("lang") if params is not None else None)
    snapshot = resident.snapshots.current()
    closed = resident.closed_reply(lang, snapshot)
    if closed:
        return closed
    limited = not is_exempt(client, resident.exempt)
    repeat = False
    if limited and params is not None and params.get(FIELD):
        asked = lookup.read_question(params, snapshot).question
        repeat = asked is not None and resident.repeats.proves(params[FIELD], client, asked)
    allowed, retry_after = resident.limiter.check(client) if limited and not repeat else (True, 0)
    if not allowed:
        return Reply("rate_limited", lang, retry_after=retry_after, typed=lookup.typed(params))
    if params is None:
        return Reply("invalid", lang, snapshot, errors={"body": BODY_INVALID})
    reading = lookup.read_question(params, snapshot)
    if reading.question is None:
        return Reply("invalid", lang, snapshot, errors=reading.errors, typed=lookup.typed(params))
    programme = reading.question.programme
    if not is_open(programme, lookup.today_in_japan()):
        return Reply("closed", lang, snapshot, programme)
    answer = lookup.answer_key(snapshot, lookup_key(resident.secret, programme["code"],
                                                    reading.question.receipt,
                                                    reading.question.birth_date), programme)
    if not repeat:
        resident.usage.count(answer.found, answer.status and answer.status["code"])
    if limited and not answer.found and not repeat:
        resident.limiter.fail(client)
    proof = resident.repeats.proof(client, reading.question) if limited else ""
    return Reply("found" if answer.found else "not_found", lang, snapshot, programme, answer,
                 question=reading.question, repeat_proof=proof)


class CountingLimiter(RateLimiter):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.consulted = 0

    def allow(self, address, count=True):
        self.consulted += 1
        return super().allow(address, count)


def test_one_limiter_step_per_request_gives_every_reply_the_reference_flow_gives(public_host):
    """A sequence from two addresses — answers, failures, bad input, unreadable bodies, the
    language buttons' repeats with a good and a forged proof, a city counter — through both
    flows: the same replies (kind, status, retry, question, answer, proof), the same usage
    counts, and one consultation of the limiter per limited request."""
    public_host.publish()
    plain, one_step = desk(public_host, limit=3), desk(public_host, limit=3)
    clock = HandClock()
    for resident in (plain, one_step):
        resident.limiter = CountingLimiter(3, 300, clock=clock)
        resident.exempt = exempt_networks("192.0.2.0/24")
    found = {"programme": "p2020", "receipt_number": "0000-0002", "lang": "en"}
    missing = {"programme": "p2020", "receipt_number": "90000009"}
    born = {"programme": "p2024", "receipt_number": "00000001", "birth_date": "1980-04-01"}
    wrong_birth = {**born, "birth_date": "1980-04-02"}
    steps = [("a", found), ("a", missing), ("b", missing), ("a", {"receipt_number": ""}),
             ("a", None), ("a", born), ("a", wrong_birth), ("a", "repeat-missing"),
             ("a", {**missing, "asked": "forged"}), ("a", missing), ("a", found),
             ("a", "repeat-missing"), ("a", None), ("a", {"receipt_number": ""}),
             ("b", found), ("b", "repeat-missing"), ("192.0.2.9", missing),
             ("192.0.2.9", missing), ("192.0.2.9", missing), ("192.0.2.9", missing)]
    proofs = {}
    for client, params in steps:
        if params == "repeat-missing":   # the language button of the last not-found answer
            params = {**missing, "asked": proofs[client], "lang": "ja-easy"}
        before = one_step.limiter.consulted
        expected, got = reference_ask(plain, params, client), one_step.ask(params, client)
        assert got.kind == expected.kind, (client, params)
        assert (got.status, got.retry_after, got.question, got.answer, got.repeat_proof,
                got.errors, got.typed, got.lang) == (
            expected.status, expected.retry_after, expected.question, expected.answer,
            expected.repeat_proof, expected.errors, expected.typed, expected.lang)
        assert one_step.limiter.consulted - before == (0 if client.startswith("192.0.2.")
                                                       else 1 if "asked" not in (params or {})
                                                       or params["asked"] == "forged" else 0)
        if got.kind == "not_found" and params == missing:
            proofs[client] = got.repeat_proof
        clock.now += 1
    assert one_step.usage.seen == plain.usage.seen
    assert one_step.ask(missing, "a").kind == "rate_limited"   # the limit was reached
