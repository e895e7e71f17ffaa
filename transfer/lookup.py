"""The lookup key: what the public host stores instead of a receipt number.

    key = HMAC-SHA256(lookup_key, programme ‖ 0x00 ‖ normalised receipt [‖ 0x00 ‖ birth date])
          truncated to 16 bytes

The HMAC key never leaves the two hosts; without it the hashes cannot be brute-forced
from the (small) space of receipt numbers. The same function runs on both sides.
"""

import hashlib
from datetime import date

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


def lookup_key_id(secret: bytes) -> str:
    """A public name for an HMAC key (which key made the hashes), not the key itself."""
    return "lk-" + hashlib.sha256(b"shinsei lookup key id\x00" + secret).hexdigest()[:16]
