"""transfer.build.make_body: one process or several, the same bytes; rows left out counted."""

import hashlib
import hmac
import random
from datetime import date
from types import SimpleNamespace

import pytest

from transfer import build
from transfer.snapshot import ENTRY, ENTRY_SIZE, day_number

SECRET = b"k" * 32
STATUSES = [SimpleNamespace(code="received", needs_scheduled_payment_date=False,
                            needs_paid_date=False),
            SimpleNamespace(code="scheduled", needs_scheduled_payment_date=True,
                            needs_paid_date=False),
            SimpleNamespace(code="paid", needs_scheduled_payment_date=True, needs_paid_date=True),
            SimpleNamespace(code="deficient", needs_scheduled_payment_date=False,
                            needs_paid_date=False, needs_resident_action=True)]
# A row without action details: no kinds, no documents sent, no deadline.
NONE = (None, None, None)
PROGRAMMES = [SimpleNamespace(id=1, code="p2020", needs_birth_date=False),
              SimpleNamespace(id=2, code="p2024", needs_birth_date=True)]


def rows(count):
    rng = random.Random(7)
    out = []
    for n in range(count):
        programme = 1 + n % 2
        birth = None if n % 10 == 3 else date(1950 + n % 50, 1 + n % 12, 1 + n % 28)
        status = rng.choice(STATUSES).code
        # Action details on every row: only a status that asks the resident to act carries them.
        out.append((programme, f"{n:08d}", birth, status, date(2024, 7, 1 + n % 30),
                    date(2024, 8, 1 + n % 31), n % 7, date(2024, 6, 1 + n % 30),
                    None if n % 5 == 0 else date(2024, 7, 1 + n % 30)))
    return out


def expected(rows_, programmes=PROGRAMMES):
    """The body as defined, with the standard library's HMAC and entries sorted as tuples."""
    code = {p.id: p.code for p in programmes}
    needs = {p.id: p.needs_birth_date for p in programmes}
    status = {s.code: (i, s) for i, s in enumerate(STATUSES)}
    entries = []
    for programme, receipt, birth, state, scheduled, paid, kinds, sent, by in rows_:
        if needs[programme] and birth is None:
            continue
        message = code[programme].encode() + b"\x00" + receipt.encode("ascii", errors="replace")
        if needs[programme]:
            message += b"\x00" + birth.isoformat().encode()
        index, info = status[state]
        acts = getattr(info, "needs_resident_action", False)
        entries.append((hmac.new(SECRET, message, hashlib.sha256).digest()[:16], index,
                        day_number(scheduled) if info.needs_scheduled_payment_date else 0,
                        day_number(paid) if info.needs_paid_date else 0,
                        (kinds or 0) if acts else 0, day_number(sent) if acts else 0,
                        day_number(by) if acts else 0))
    entries.sort()
    return b"".join(ENTRY.pack(*entry) for entry in entries), len(entries)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_body_is_the_same_in_one_process_or_several(monkeypatch, workers):
    monkeypatch.setattr(build, "PARALLEL_FROM", 10)
    given = rows(2_000)
    body, count, skipped = build.make_body(given, PROGRAMMES, STATUSES, SECRET, workers=workers)
    assert (body, count) == expected(given)
    # Rows 3, 13, 23, … have no birth date; all are odd, so programme 2, which needs one.
    assert skipped == 200
    keys = [body[i:i + 16] for i in range(0, len(body), ENTRY_SIZE)]
    assert keys == sorted(keys) and len(set(keys)) == count


MANY = [SimpleNamespace(id=n, code=f"p{n:03d}", needs_birth_date=n % 3 == 0) for n in range(40)]


@pytest.mark.parametrize("case", ["empty", "one", "unicode", "many programmes", "all skipped"])
@pytest.mark.parametrize("workers", [1, 2])
def test_body_is_the_defined_one_on_every_shape_of_rows(monkeypatch, case, workers):
    monkeypatch.setattr(build, "PARALLEL_FROM", 2)
    programmes = PROGRAMMES
    given = {
        "empty": [],
        "one": [(1, "00000001", None, "paid", date(2020, 7, 1), date(2020, 7, 2), *NONE)],
        # Not normalised (no importer stores these): each non-ASCII character hashes as "?".
        "unicode": [(1, "１２３４", None, "received", None, None, *NONE),
                    (2, "申請ＡＢ", date(1980, 4, 1), "scheduled", date(2179, 1, 1), None, *NONE),
                    (1, "1234", None, "received", None, None, *NONE)],
        "many programmes": [(n % 40, f"{n:08d}", None if n % 7 == 0 else date(1950, 1, 1 + n % 28),
                             STATUSES[n % 4].code, date(2024, 7, 1), date(2024, 8, 1),
                             1 << n % 32, date(2024, 6, 1), date(2179, 6, 6))
                            for n in range(3_000)],
        "all skipped": [(2, f"{n:08d}", None, "received", None, None, *NONE) for n in range(5)],
    }[case]
    if case == "many programmes":
        programmes = MANY
    body, count, skipped = build.make_body(given, programmes, STATUSES, SECRET, workers=workers)
    assert (body, count) == expected(given, programmes)
    assert skipped == len(given) - count


def test_a_generator_of_rows_is_read_once(monkeypatch):
    monkeypatch.setattr(build, "PARALLEL_FROM", 10)
    given = rows(500)
    body, count, _ = build.make_body(iter(given), PROGRAMMES, STATUSES, SECRET, workers=2)
    assert (body, count) == expected(given)


def test_unknown_status_is_not_silently_dropped():
    with pytest.raises(KeyError):
        build.make_body([(1, "00000001", None, "nonsense", None, None, *NONE)], PROGRAMMES,
                        STATUSES, SECRET, workers=1)


def test_kind_bits_past_the_entry_set_are_refused_not_cut():
    """A bit set wider than 32 bits would lose kinds silently if packed: refused instead."""
    with pytest.raises(ValueError, match="past the entry"):
        build.make_body([(1, "00000001", None, "deficient", None, None, 1 << 32, None, None)],
                        PROGRAMMES, STATUSES, SECRET, workers=1)


def test_programme_names_carry_easy_japanese_only_when_staff_gave_one():
    def programme(**names):
        return SimpleNamespace(code="p2024", needs_birth_date=True, lookup_opens_on=None,
                               lookup_closes_on=None, **names)

    easy = programme(name="物価高騰対策給付金", name_en="", name_easy="{物価|ぶっか}の きゅうふきん")
    assert build.programme_fields(easy)["name"] == {
        "ja": "物価高騰対策給付金", "en": "物価高騰対策給付金", "ja-easy": "{物価|ぶっか}の きゅうふきん"}
    # Without one (or from a record that predates it), the header is as before.
    for plain in (programme(name="給付金", name_en="Payment", name_easy=""),
                  programme(name="給付金", name_en="Payment")):
        assert build.programme_fields(plain)["name"] == {"ja": "給付金", "en": "Payment"}


def test_forked_workers_end_even_where_sigterm_only_notes_the_signal(monkeypatch):
    """A process whose SIGTERM handler only notes the signal (as the receiver's watch loop
    installs): its forked workers inherit it, and a pool ended by terminate() waits for ever
    for a worker that SIGTERM does not end (a test run hung 35 minutes; the race itself is
    not reproducible here). The work is done, no worker is left, no signal was sent, and
    the process keeps its own handler."""
    import multiprocessing
    import signal

    monkeypatch.setattr(build, "PARALLEL_FROM", 10)
    noted = []

    def note(signum, frame):
        noted.append(signum)

    previous = signal.signal(signal.SIGTERM, note)
    try:
        given = rows(500)
        assert build.make_body(given, PROGRAMMES, STATUSES, SECRET, workers=2)[:2] \
            == expected(given)
        assert multiprocessing.active_children() == []
        assert signal.getsignal(signal.SIGTERM) is note and noted == []
    finally:
        signal.signal(signal.SIGTERM, previous)
