"""A verified snapshot body held as one bytes object: compact, sorted, searched by bisection.

Five million entries are 105 MB here, against ~730 MB as a Python dict; a lookup is a
binary search of about 23 steps over fixed-size records.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from transfer.snapshot import ENTRY, ENTRY_SIZE, day_from_number

KEY_SIZE = 16


@dataclass(frozen=True)
class Entry:
    key: bytes
    status_index: int
    scheduled_payment_on: date | None
    paid_on: date | None


class SnapshotTable:
    def __init__(self, body: bytes, count: int):
        self.body = body
        self.count = count

    @property
    def body_length(self) -> int:
        return len(self.body)

    def key_at(self, index: int) -> bytes:
        start = index * ENTRY_SIZE
        return self.body[start:start + KEY_SIZE]

    def entry_at(self, index: int) -> Entry:
        key, status, scheduled, paid = ENTRY.unpack_from(self.body, index * ENTRY_SIZE)
        return Entry(key, status, day_from_number(scheduled), day_from_number(paid))

    def find(self, key: bytes) -> Entry | None:
        low, high, body = 0, self.count, self.body
        while low < high:
            mid = (low + high) // 2
            start = mid * ENTRY_SIZE
            if body[start:start + KEY_SIZE] < key:
                low = mid + 1
            else:
                high = mid
        if low < self.count and self.key_at(low) == key:
            return self.entry_at(low)
        return None

    def first_disorder(self) -> int | None:
        """Index of the first entry not strictly greater than its predecessor, or None."""
        body = self.body
        previous = b""
        for index in range(self.count):
            start = index * ENTRY_SIZE
            key = body[start:start + KEY_SIZE]
            if key <= previous:
                return index
            previous = key
        return None

    def status_counts(self) -> dict[int, int]:
        # Every entry's status byte, read in one slice and counted in C.
        return dict(Counter(self.body[KEY_SIZE::ENTRY_SIZE][:self.count]))
