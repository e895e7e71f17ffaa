"""The lookup key: what the public host stores instead of a receipt number.

    key = HMAC-SHA256(lookup_key, programme ‖ 0x00 ‖ normalised receipt [‖ 0x00 ‖ birth date])
          truncated to 16 bytes

The HMAC key never leaves the two hosts; without it the hashes cannot be brute-forced
from the (small) space of receipt numbers. The same function runs on both sides.
"""

import hashlib
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import repeat, starmap

from transfer.receipt import normalise_receipt_number

LOOKUP_KEY_BYTES = 16


def lookup_key(secret: bytes, programme: str, receipt_number: str,
               birth_date: date | None = None) -> bytes:
    return LookupHasher(secret, programme).key(normalise_receipt_number(receipt_number),
                                               birth_date)


class LookupHasher:
    """Lookup keys for one programme; the HMAC state after the prefix is computed once.

    ``key`` takes an already normalised receipt number (as the intranet stores it); call
    ``lookup_key`` for anything a person typed.

    The HMAC is written out as RFC 2104 defines it — SHA-256 over the key padded and
    XORed with ipad, then the prefix (kept as one state), then the message; SHA-256 over
    the key XORed with opad and that inner digest — so that a key costs two copies of
    plain ``hashlib`` states in C. ``hmac.HMAC.copy`` builds a Python object per call
    and cost twice as much per key in a million-row build. The same bytes as
    ``hmac.new(secret, programme ‖ 0x00 ‖ message, sha256)`` (tests/unit/transfer/test_lookup.py).
    """

    def __init__(self, secret: bytes, programme: str):
        block = hashlib.sha256().block_size
        key = hashlib.sha256(secret).digest() if len(secret) > block else secret
        key = key.ljust(block, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._inner.update(programme.encode("ascii") + b"\x00")
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def key(self, normalised_receipt: str, birth_date: date | None = None) -> bytes:
        inner = self._inner.copy()
        inner.update(normalised_receipt.encode("ascii", errors="replace"))
        if birth_date is not None:
            inner.update(b"\x00" + birth_date.isoformat().encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:LOOKUP_KEY_BYTES]

    def keys(self, normalised_receipts: Sequence[str],
             birth_dates: Sequence[date] | None = None) -> list[bytes]:
        """``[key(r, b) for r, b in zip(receipts, birth_dates)]``, the same bytes, for a batch
        (a snapshot build's rows): each step runs over the whole batch in C (``map`` over the
        hash objects' own methods), not once per key in Python bytecode."""
        count = len(normalised_receipts)
        messages: Iterable[bytes] = map(str.encode, normalised_receipts,
                                        repeat("ascii", count), repeat("replace", count))
        if birth_dates is not None:
            messages = map(bytes.__add__, messages, map(_BIRTH_SUFFIXES.__getitem__, birth_dates))
        update, digest = type(self._inner).update, type(self._inner).digest
        inners = list(starmap(self._inner.copy, repeat((), count)))
        deque(map(update, inners, messages), maxlen=0)
        outers = list(starmap(self._outer.copy, repeat((), count)))
        deque(map(update, outers, map(digest, inners)), maxlen=0)
        return list(map(bytes.__getitem__, map(digest, outers),
                        repeat(slice(0, LOOKUP_KEY_BYTES), count)))


class _BirthSuffixes(dict[date, bytes]):
    """A birth date → the bytes it adds to the message (a few tens of thousands of dates)."""

    def __missing__(self, day: date) -> bytes:
        self[day] = suffix = b"\x00" + day.isoformat().encode("ascii")
        return suffix


_BIRTH_SUFFIXES = _BirthSuffixes()


def lookup_key_id(secret: bytes) -> str:
    """A public name for an HMAC key (which key made the hashes), not the key itself."""
    return "lk-" + hashlib.sha256(b"shinsei lookup key id\x00" + secret).hexdigest()[:16]
