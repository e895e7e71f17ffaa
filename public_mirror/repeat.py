"""A language switch on an answer is the same question again, not another guess.

The language buttons of an answer page post the question again (``public_mirror.pages``),
so that the answer stays and no number enters a URL. That repost must neither count as
another failed lookup (on a not-found answer) nor be refused because the address has used
up its budget (this very question may have used it up). The client's word for it ("a
repeat") would let a guesser skip the limit, so the page carries a proof only this host
can make: a MAC over whose budget it is (``ratelimit.limited_as``), the question, and the
time. It lets an address ask again only what it has already been told, so it gives a
guesser nothing new.
"""

import hashlib
import hmac
import re
import time

from public_mirror.lookup import Question
from public_mirror.ratelimit import limited_as

FIELD = "asked"   # the hidden field of the language buttons
# What ``proof`` makes: 32 lowercase hex digits. Anything else is no proof, and is never
# compared: compare_digest raises on a str with non-ASCII characters (a 500 for "é").
_SHAPE = re.compile(r"[0-9a-f]{32}")


class Repeats:
    """Makes and checks the proof; valid for the rate window it was made in and the next."""

    def __init__(self, secret: bytes, window: float, clock=time.time):
        # Its own key: a proof can never stand for a lookup key, or the reverse.
        self._key = hmac.new(secret, b"shinsei repeated question\x00", hashlib.sha256).digest()
        self.window, self.clock = window, clock

    def proof(self, client: str, question: Question) -> str:
        return self._mac(client, question, self._period())

    def proves(self, proof: object, client: str, question: Question) -> bool:
        if not isinstance(proof, str) or not _SHAPE.fullmatch(proof):
            return False
        period = self._period()
        return any(hmac.compare_digest(proof, self._mac(client, question, made))
                   for made in (period, period - 1))

    def _period(self) -> int:
        return int(self.clock() // self.window)

    def _mac(self, client: str, question: Question, period: int) -> str:
        birth = question.birth_date.isoformat() if question.birth_date else ""
        asked = "\x00".join((limited_as(client), question.programme["code"], question.receipt,
                             birth, str(period)))
        # Keyed BLAKE2b: a MAC in one C call, on every answer of the fast path.
        return hashlib.blake2b(asked.encode("utf-8", "replace"), key=self._key,
                               digest_size=16).hexdigest()
