"""The lookup key: what the public host stores instead of a receipt number.

    key = HMAC-SHA256(lookup_key, programme ‖ 0x00 ‖ normalised receipt [‖ 0x00 ‖ birth date])
          truncated to 16 bytes

The HMAC key never leaves the two hosts; without it the hashes cannot be brute-forced
from the (small) space of receipt numbers. The same function runs on both sides.
"""

import hashlib
import hmac
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
    """

    def __init__(self, secret: bytes, programme: str):
        self._prefix = hmac.new(secret, programme.encode("ascii") + b"\x00", hashlib.sha256)

    def key(self, normalised_receipt: str, birth_date: date | None = None) -> bytes:
        mac = self._prefix.copy()
        mac.update(normalised_receipt.encode("ascii", errors="replace"))
        if birth_date is not None:
            mac.update(b"\x00" + birth_date.isoformat().encode("ascii"))
        return mac.digest()[:LOOKUP_KEY_BYTES]


def lookup_key_id(secret: bytes) -> str:
    """A public name for an HMAC key (which key made the hashes), not the key itself."""
    return "lk-" + hashlib.sha256(b"shinsei lookup key id\x00" + secret).hexdigest()[:16]
