"""transfer.table: the order check finds the first fault wherever it lies, and the status
counts (one slice counted in C) answer as the entry-by-entry loop they replaced."""

import random
from datetime import date

import pytest

from transfer.snapshot import ENTRY, ENTRY_SIZE
from transfer.table import KEY_SIZE, SnapshotTable


def loop_first_disorder(body, count):
    previous = b""
    for index in range(count):
        key = body[index * ENTRY_SIZE:index * ENTRY_SIZE + KEY_SIZE]
        if key <= previous:
            return index
        previous = key
    return None


def loop_status_counts(body, count):
    counts = {}
    for index in range(count):
        status = body[index * ENTRY_SIZE + KEY_SIZE]
        counts[status] = counts.get(status, 0) + 1
    return counts


def body_of(keys, rng):
    return b"".join(ENTRY.pack(key, rng.randrange(5), 0, 0, 0, 0, 0) for key in keys)


def sorted_keys(count, rng):
    return sorted({rng.randbytes(KEY_SIZE) for _ in range(count)})


def faults(keys):
    """The keys with one fault each: a repeat, a swap, a key smaller than all before."""
    n = len(keys)
    for at in sorted({1, 2, 6, 7, 8, 9, n // 2, n - 1}):
        yield [*keys[:at], keys[at - 1], *keys[at + 1:]]               # repeated
        yield [*keys[:at - 1], keys[at], keys[at - 1], *keys[at + 1:]]  # swapped
        yield [*keys[:at], b"\x00" * KEY_SIZE, *keys[at + 1:]]          # falls back


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_check_finds_the_same_first_fault(seed):
    rng = random.Random(seed)
    keys = sorted_keys(40, rng)
    for case in [[], keys[:1], keys, list(reversed(keys)), *faults(keys)]:
        body = body_of(case, rng)
        table = SnapshotTable(body, len(case))
        assert table.first_disorder() == loop_first_disorder(body, len(case))
        assert table.status_counts() == loop_status_counts(body, len(case))


def test_an_all_zero_first_key_is_still_in_order():
    rng = random.Random(1)
    keys = [b"\x00" * KEY_SIZE, *sorted_keys(5, rng)]
    body = body_of(keys, rng)
    assert SnapshotTable(body, len(keys)).first_disorder() is None is \
        loop_first_disorder(body, len(keys))


def test_a_count_past_the_body_is_a_fault_where_the_keys_run_out():
    rng = random.Random(2)
    body = body_of(sorted_keys(5, rng), rng)
    assert SnapshotTable(body, 8).first_disorder() == loop_first_disorder(body, 8) == 5


def test_a_format_1_table_reads_without_action_details():
    """An older snapshot's 21-byte entries read as before: no kinds, no dates of them."""
    from transfer.snapshot import ENTRY_V1, day_number

    keys = sorted_keys(20, random.Random(3))
    body = b"".join(ENTRY_V1.pack(key, 1, day_number(date(2020, 7, 10)), 0) for key in keys)
    table = SnapshotTable(body, len(keys), ENTRY_V1)
    entry = table.find(keys[7])
    assert entry.status_index == 1 and entry.scheduled_payment_on == date(2020, 7, 10)
    assert (entry.deficiency_kinds, entry.documents_sent_on, entry.return_by) == (0, None, None)
    assert table.deficiency_kinds_used() == 0 and table.first_disorder() is None


@pytest.mark.parametrize("bits", [[0], [31], [0, 8, 16, 24], [3, 30], []])
def test_kinds_used_is_every_bit_any_entry_sets(bits):
    rng = random.Random(5)
    keys = sorted_keys(300, rng)
    body = b"".join(ENTRY.pack(key, 0, 0, 0, (1 << bits[n % len(bits)]) if bits else 0, 0, 0)
                    for n, key in enumerate(keys))
    table = SnapshotTable(body, len(keys))
    assert table.deficiency_kinds_used() == sum(1 << bit for bit in bits)
    # Bytes past the counted entries are not read (the count check refuses them separately).
    assert SnapshotTable(body + ENTRY.pack(b"\xff" * 16, 0, 0, 0, 1 << 12, 0, 0),
                         len(keys)).deficiency_kinds_used() == sum(1 << bit for bit in bits)
