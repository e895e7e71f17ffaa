"""A resident's question, answered once: the one flow the page, the fast path and the API share.

``ResidentDesk.ask`` takes the submitted fields (a mapping of strings) and the client's
address and returns a ``Reply`` saying everything a shell needs to show: which kind of
answer, the HTTP status, the language, and the values. The shells only translate a reply
into HTML (``public_mirror.pages``) or JSON (``public_mirror.api``).
"""

import time
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from public_mirror import lookup
from public_mirror.i18n import choose
from public_mirror.ratelimit import is_exempt
from public_mirror.repeat import FIELD as REPEAT_FIELD
from public_mirror.repeat import Repeats
from public_mirror.store import is_expired
from transfer.answer import Answer, is_open
from transfer.verify import VerifiedSnapshot

BODY_INVALID = "送られた内容を読み取れませんでした。入力画面から、もう一度お試しください。"

# What a question may be in every shell (the page's form view, the fast path in front of
# it, the API): a body this long at most, with this many fields at most. Anything larger
# is not parsed at all and is answered as a body that could not be read.
MAX_BODY = 4096
MAX_FIELDS = 16

MAINTENANCE_RECHECK = 0.5   # seconds between looks at the maintenance file

# Kinds of reply, and the HTTP status each is given.
STATUS = {"found": 200, "not_found": 200, "closed": 200, "invalid": 400, "rate_limited": 429,
          "maintenance": 503, "updating": 503}


NOTHING: dict = MappingProxyType({})   # type: ignore[assignment]  # no errors, nothing typed


class Reply(NamedTuple):
    """Immutable as a frozen dataclass, made at a third of its cost (one per request)."""

    kind: str
    lang: str
    snapshot: VerifiedSnapshot | None = None
    programme: dict | None = None
    answer: Answer | None = None
    errors: dict = NOTHING
    retry_after: int = 0
    typed: dict = NOTHING   # the form's fields as typed (not an answer)
    question: lookup.Question | None = None     # what was asked: shown masked, never cached
    repeat_proof: str = ""   # on an answer: its language buttons ask again uncounted

    @property
    def status(self) -> int:
        return STATUS[self.kind]

    @property
    def cache_key(self) -> tuple | None:
        """What an answer page depends on — and nothing else — or None if it is not kept."""
        if self.kind not in ("found", "not_found"):
            return None
        answer, snapshot, programme = self.answer, self.snapshot, self.programme
        assert answer is not None and snapshot is not None and programme is not None
        if not answer.found:   # its form offers the programmes open today
            return (snapshot.sequence, self.lang, programme["code"], False,
                    lookup.today_in_japan())
        action = answer.action
        # The action details are codes and days shared by many residents; whether the
        # deadline has passed changes with the day the page is asked for.
        details = action and (action.kinds, action.documents_sent_on, action.return_by,
                              action.overdue(lookup.today_in_japan()))
        return (snapshot.sequence, self.lang, programme["code"], True, answer.code,
                answer.scheduled_payment_on, answer.paid_on, details)


class ResidentDesk:
    """Answers questions from the live snapshot, within the rate limit, counting usage."""

    def __init__(self, *, snapshots, secret: bytes, limiter, usage, languages: list[str],
                 maintenance: bool = False, exempt: tuple = (), lookup_keys=None,
                 maintenance_file: Path | None = None, clock=None):
        """``lookup_keys``: the host's keys by id (``public_mirror.lookup_keys``); without
        them every snapshot is answered with ``secret``. ``maintenance_file``: while it
        exists, every answer is the maintenance page (``touch`` it, ``rm`` it: no restart).
        ``clock``: what time it is (an aware datetime) when a snapshot's expiry is judged;
        the wall clock when None (a test moves its own past the expiry instead of waiting)."""
        self.snapshots, self.secret, self.lookup_keys = snapshots, secret, lookup_keys
        self.clock = clock
        self.maintenance_file = maintenance_file
        self._flag_seen: tuple[float, bool] = (-1.0, False)
        self.exempt = exempt   # the city's own counters: never limited
        self.limiter, self.usage = limiter, usage
        self.languages, self.maintenance = languages, maintenance
        self.repeats = Repeats(secret, limiter.window)

    def language(self, value) -> str:
        return choose(value, self.languages)

    def closed_reply(self, lang: str, snapshot: VerifiedSnapshot | None) -> Reply | None:
        """The honest "not now" reply when no answer may be given, else None."""
        if self.in_maintenance():
            return Reply("maintenance", lang)
        now = self.clock() if self.clock is not None else None
        if snapshot is None or is_expired(snapshot, now) or self.secret_for(snapshot) is None:
            # Never show statuses that may no longer be true as if they were current — nor
            # "not found" to everyone because the hashes' key is not on this host.
            return Reply("updating", lang)
        return None

    def in_maintenance(self) -> bool:
        """``mirror.maintenance``, or the maintenance file present (looked at twice a second
        at most, not once per request)."""
        if self.maintenance or self.maintenance_file is None:
            return self.maintenance
        checked, present = self._flag_seen
        if time.monotonic() - checked >= MAINTENANCE_RECHECK:
            present = self.maintenance_file.exists()
            self._flag_seen = (time.monotonic(), present)
        return present

    def secret_for(self, snapshot: VerifiedSnapshot) -> bytes | None:
        """The lookup key that made this snapshot's hashes, if this host holds it."""
        if self.lookup_keys is None:
            return self.secret
        return self.lookup_keys.secret(str(snapshot.header.get("lookup_key_id", "")))

    def ask(self, params, client: str) -> Reply:
        """``params``: the submitted fields, or None when the request could not be read.

        The shared rate limiter is consulted once per request: for an answer, after the
        lookup (which tells whether a failure is to be counted), in one locked step that
        refuses and counts together; otherwise before anything else is said."""
        lang = self.language(params.get("lang") if params is not None else None)
        snapshot = self.snapshots.current()   # one snapshot for the whole answer
        closed = self.closed_reply(lang, snapshot)
        if closed:
            return closed
        assert snapshot is not None   # closed_reply answers "updating" when there is none
        limited = not is_exempt(client, self.exempt)
        reading = lookup.read_question(params, snapshot) if params is not None else None
        question = reading.question if reading is not None else None
        # A language switch on an answer is not another lookup: never refused, not counted.
        repeat = limited and self._is_repeat(params, question, client)
        guarded = limited and not repeat
        if question is None or not is_open(question.programme, lookup.today_in_japan()):
            allowed, retry_after = self.limiter.check(client) if guarded else (True, 0)
            if not allowed:
                self.usage.count_limited(question and question.programme["code"])
                return Reply("rate_limited", lang, retry_after=retry_after,
                             typed=lookup.typed(params))
            if reading is None:
                return Reply("invalid", lang, snapshot, errors={"body": BODY_INVALID})
            if question is None:
                return Reply("invalid", lang, snapshot, errors=reading.errors,
                             typed=lookup.typed(params))
            return Reply("closed", lang, snapshot, question.programme)
        secret = self.secret_for(snapshot)
        assert secret is not None   # closed_reply answers "updating" when there is none
        answer = lookup.answer(snapshot, secret, question)
        if guarded:   # only failures count, once each
            allowed, retry_after = self.limiter.allow(client, count=not answer.found)
            if not allowed:
                self.usage.count_limited(question.programme["code"])
                return Reply("rate_limited", lang, retry_after=retry_after,
                             typed=lookup.typed(params))
        if not repeat:
            self.usage.count(answer.found, answer.status and answer.status["code"],
                             programme=question.programme["code"])
        # The answer's language buttons may ask again, counted nothing and never refused.
        proof = self.repeats.proof(client, question) if limited else ""
        return Reply("found" if answer.found else "not_found", lang, snapshot, question.programme,
                     answer, question=question, repeat_proof=proof)

    def _is_repeat(self, params, question: lookup.Question | None, client: str) -> bool:
        """The question again from an answer's language buttons (already answered)."""
        if question is None or not params.get(REPEAT_FIELD):
            return False
        return self.repeats.proves(params[REPEAT_FIELD], client, question)

    def probe(self, snapshot: VerifiedSnapshot) -> list[Reply]:
        """Replies for the health check, through the same answer code: the first entry of
        the table (a real lookup, when there is one) and a key that is not there. Neither
        is rate limited nor counted."""
        replies = []
        programme = lookup.programmes(snapshot)[0]
        if snapshot.table.count:
            answer = lookup.answer_key(snapshot, snapshot.table.key_at(0), programme)
            replies.append(Reply("found", "ja", snapshot, programme, answer))
        missing = lookup.answer_key(snapshot, b"\x00" * 16, programme)
        replies.append(Reply("found" if missing.found else "not_found", "ja", snapshot,
                             programme, missing))
        return replies
