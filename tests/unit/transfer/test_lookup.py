"""The lookup key and the compact table it is searched in."""

from datetime import date

from transfer.lookup import lookup_key, lookup_key_id
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


def test_key_id_does_not_reveal_the_key():
    assert SECRET.hex() not in lookup_key_id(SECRET)


def test_table_finds_every_entry_and_nothing_else():
    keys = sorted(lookup_key(SECRET, "p", f"{n:08d}") for n in range(500))
    body = b"".join(ENTRY.pack(k, i % 3, day_number(date(2020, 7, 1)), 0)
                    for i, k in enumerate(keys))
    table = SnapshotTable(body, len(keys))
    for i, key in enumerate(keys):
        entry = table.find(key)
        assert entry.status_index == i % 3 and entry.scheduled_payment_on == date(2020, 7, 1)
    assert table.find(lookup_key(SECRET, "p", "99999999")) is None
    assert table.find(b"\xff" * 16) is None and table.find(b"\x00" * 16) is None
    assert table.first_disorder() is None
