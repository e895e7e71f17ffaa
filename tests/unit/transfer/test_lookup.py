"""The lookup key and the compact table it is searched in."""

import hashlib
import hmac
from datetime import date

import pytest

from transfer.lookup import LookupHasher, lookup_key, lookup_key_id
from transfer.snapshot import ENTRY, day_number
from transfer.table import SnapshotTable

SECRET = b"s" * 32


def test_any_spelling_of_a_number_gives_the_same_key():
    assert lookup_key(SECRET, "p", "１２３４－５６７８") == lookup_key(SECRET, "p", "12345678")


def test_programme_and_birth_date_separate_keys():
    base = lookup_key(SECRET, "p2020", "12345678")
    assert base != lookup_key(SECRET, "p2024", "12345678")
    assert base != lookup_key(SECRET, "p2020", "12345678", date(1980, 1, 1))
    assert len(base) == 16


def reference_key(secret, programme, receipt, birth=None):
    """The lookup key as the design writes it down, with the standard library's HMAC."""
    message = programme.encode("ascii") + b"\x00" + receipt.encode("ascii", errors="replace")
    if birth is not None:
        message += b"\x00" + birth.isoformat().encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()[:16]


# Key lengths around SHA-256's 64-byte block: shorter keys are padded, longer ones hashed.
@pytest.mark.parametrize("secret", [b"", b"k", b"s" * 32, bytes(range(63)), bytes(range(64)),
                                    bytes(range(65)), bytes(range(256)) * 2])
def test_the_hasher_is_hmac_sha256_byte_for_byte(secret):
    cases = [("p2020", "12345678", None), ("p2024", "00000001", date(1980, 4, 1)),
             ("x", "", None), ("p-1_b", "A" * 32, date(1, 1, 1)),
             ("p", "１２３４", None),   # not normalised: non-ASCII becomes "?" in both
             ("p", "12345678", date(9999, 12, 31))]
    for programme, receipt, birth in cases:
        hasher = LookupHasher(secret, programme)
        assert hasher.key(receipt, birth) == reference_key(secret, programme, receipt, birth)
        # A state is copied, never consumed: the same key twice, then another.
        assert hasher.key(receipt, birth) == reference_key(secret, programme, receipt, birth)
        assert hasher.key(receipt + "9") == reference_key(secret, programme, receipt + "9")


def test_key_id_does_not_reveal_the_key():
    assert SECRET.hex() not in lookup_key_id(SECRET)


def test_table_finds_every_entry_and_nothing_else():
    keys = sorted(lookup_key(SECRET, "p", f"{n:08d}") for n in range(500))
    body = b"".join(ENTRY.pack(k, i % 3, day_number(date(2020, 7, 1)), 0, 0, 0, 0)
                    for i, k in enumerate(keys))
    table = SnapshotTable(body, len(keys))
    for i, key in enumerate(keys):
        entry = table.find(key)
        assert entry.status_index == i % 3 and entry.scheduled_payment_on == date(2020, 7, 1)
    assert table.find(lookup_key(SECRET, "p", "99999999")) is None
    assert table.find(b"\xff" * 16) is None and table.find(b"\x00" * 16) is None
    assert table.first_disorder() is None
