"""What residents may know about a programme as a whole, counted while the snapshot is built.

Per programme: how many applications there are and how many are paid (statuses that carry
a paid date), and whether every receipt number is digits only (the public form then opens a
numeric keyboard). The counts go into the header only when there are at least
``threshold`` applications: a small programme's numbers would tell about individuals.

The rows pass through once (the database streams them); ``ProgrammeTally`` counts them on
their way to ``make_entries``.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

THRESHOLD = 100
_DIGITS = re.compile(r"[0-9]+")


class ProgrammeTally:
    def __init__(self, rows: Iterable[Any], statuses: Sequence[Any]):
        self._rows = rows
        self._paid = {s.code for s in statuses if s.needs_paid_date}
        self.applications: dict[int, int] = {}
        self.paid: dict[int, int] = {}
        self.letters: set[int] = set()   # programmes with a receipt number holding a letter

    def __iter__(self) -> Iterator[Any]:
        applications, paid, letters, paid_codes = self.applications, self.paid, self.letters, self._paid
        for row in self._rows:
            programme_id, receipt, status = row[0], row[1], row[3]
            applications[programme_id] = applications.get(programme_id, 0) + 1
            if status in paid_codes:
                paid[programme_id] = paid.get(programme_id, 0) + 1
            if programme_id not in letters and not _DIGITS.fullmatch(receipt):
                letters.add(programme_id)
            yield row

    @classmethod
    def of_counts(cls, counts: dict[str, Any], statuses: Sequence[Any]) -> "ProgrammeTally":
        """A tally as ``counts`` (``as_counts``) holds it: no row passes through again."""
        tally = cls((), statuses)
        tally.applications = dict(counts["applications"])
        tally.paid = dict(counts["paid"])
        tally.letters = set(counts["letters"])
        return tally

    def as_counts(self) -> dict[str, Any]:
        """The counts as plain JSON (programmes named by the rows' programme value)."""
        return {"applications": dict(self.applications), "paid": dict(self.paid),
                "letters": sorted(self.letters)}

    def add_to(self, header: dict[str, Any], programmes: Sequence[Any],
               threshold: int = THRESHOLD) -> dict[str, Any]:
        """The header with each programme's facts (new optional keys: older mirrors ignore them)."""
        ids = {p.code: p.id for p in programmes}
        for fields in header["programmes"]:
            programme_id = ids[fields["code"]]
            total = self.applications.get(programme_id, 0)
            fields["receipt_digits_only"] = total > 0 and programme_id not in self.letters
            fields["progress"] = ({"applications": total, "paid": self.paid.get(programme_id, 0)}
                                  if total >= threshold else None)
        return header
