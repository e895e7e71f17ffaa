"""The rate limiter shared by every worker process, and the per-process fallback."""

import multiprocessing
import queue

from hypothesis import given
from hypothesis import strategies as st

from lab.clock import HandClock
from public_mirror import ratelimit
from public_mirror.ratelimit import RELOOK, RateLimiter, SharedRateLimiter, client_address

SECRET = b"s" * 32
# For limiters on the wall clock (other processes have no hand clock): the next turn of this
# window is in 2033, so a count cannot depend on a 300 s window turning mid-test (seen in CI).
NEVER_TURNS = 10**9


def shared(tmp_path, limit=3, window=300, clock=None):
    return SharedRateLimiter(tmp_path / "rate-limit.table", limit, window, secret=SECRET,
                             clock=clock or HandClock())


def test_two_limiters_on_one_file_share_the_limit(tmp_path):
    clock = HandClock()
    first, second = shared(tmp_path, clock=clock), shared(tmp_path, clock=clock)
    verdicts = [limiter.allow("203.0.113.9")[0] for limiter in (first, second) * 3]
    assert verdicts == [True, True, True, False, False, False]
    assert first.allow("203.0.113.10") == (True, 0)          # another address, its own budget


def _hammer(path, results):
    limiter = SharedRateLimiter(path, 10, NEVER_TURNS, secret=SECRET)
    results.put(sum(limiter.allow("203.0.113.9")[0] for _ in range(20)))


def test_separate_processes_share_the_limit(tmp_path):
    # Started fresh ("spawn"), not forked: a fork of the test worker inherits whatever lock one
    # of its other threads held at that moment and can wait on it forever (seen in a full run).
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_hammer, args=(tmp_path / "t", results)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    stuck = [worker for worker in workers if worker.is_alive()]
    for worker in stuck:
        worker.kill()
    assert not stuck, "a process sharing the limit did not finish"
    assert sum(results.get(timeout=10) for _ in workers) == 10


def test_the_window_slides_and_retry_after_says_when(tmp_path):
    clock = HandClock(1_000_000.0 - 1_000_000.0 % 300)          # the start of a window
    limiter = shared(tmp_path, limit=2, window=300, clock=clock)
    assert limiter.allow("a")[0] and limiter.allow("a")[0]
    allowed, retry_after = limiter.allow("a")
    assert not allowed and 300 <= retry_after <= 301
    clock.now += 450                                        # half the next window gone
    assert limiter.allow("a")[0]                            # 2 × 0.5 + 0 < 2
    assert not limiter.allow("a")[0]                        # 2 × 0.5 + 1 = 2
    clock.now += 600
    assert limiter.allow("a") == (True, 0)


def test_addresses_are_stored_only_as_keyed_hashes_and_forgotten(tmp_path):
    clock = HandClock()
    limiter = shared(tmp_path, clock=clock)
    limiter.allow("203.0.113.77")
    table = (tmp_path / "rate-limit.table").read_bytes()
    assert b"203.0.113.77" not in table and table.strip(b"\x00")
    clock.now += 900                                        # two windows later: swept
    limiter.allow("198.51.100.1")
    rest = (tmp_path / "rate-limit.table").read_bytes()
    assert rest.count(b"\x00") > len(rest) - 64             # one client's slot, the sweep time


def test_an_unusable_file_falls_back_to_this_process(tmp_path):
    (tmp_path / "rate-limit.table").mkdir()                 # not a file
    limiter = shared(tmp_path, limit=1)
    assert limiter.allow("a") == (True, 0) and not limiter.allow("a")[0]


# The same day on a public host, as events (seconds into a window, address, what happened):
# a family checking three numbers, a city hall counter asking many and finding most, a
# script guessing numbers one a second, two devices of one IPv6 household, and the script
# again after two quiet windows. "fail" is a number not found; "check" asks only.
WINDOW, LIMIT = 300, 5
EVENTS = [
    *((t, "198.51.100.1", "fail") for t in (0, 40, 200)),
    *((t, "203.0.113.5", "fail" if t % 70 == 0 else "check") for t in range(0, 250, 10)),
    *((t, "192.0.2.66", "fail") for t in range(5, 65)),
    *((100 + t, f"2001:db8:1:2::{t:x}", "fail") for t in range(7)),
    *((2 * WINDOW + t, "192.0.2.66", "fail") for t in range(0, 40, 5)),
]


def test_the_shared_table_and_the_in_memory_window_agree_on_the_same_events(tmp_path):
    """The fallback (RateLimiter, an exact window per process) and the shared table (two
    fixed windows weighed, one file for every process) are driven by the same events on
    one clock: every verdict is the same. They part only just after a window boundary,
    where the table weighs the last window's failures by the share still inside the
    sliding window (test_the_window_slides_and_retry_after_says_when); these events keep
    each address's failures inside one window or two quiet windows apart, as most days do."""
    start = 1_000_000.0 - 1_000_000.0 % WINDOW
    clock = HandClock(start)
    both = (RateLimiter(LIMIT, WINDOW, clock=clock),
            SharedRateLimiter(tmp_path / "t", LIMIT, WINDOW, secret=SECRET, clock=clock))
    verdicts: dict[str, list] = {"memory": [], "table": []}
    for at, address, what in sorted(EVENTS, key=lambda event: event[0]):
        clock.now = start + at
        for name, limiter in zip(verdicts, both, strict=True):
            asked = limiter.check if what == "check" else limiter.allow
            verdicts[name].append((at, address, what, asked(address)[0]))
    assert verdicts["memory"] == verdicts["table"]
    refused = {address for _at, address, _what, allowed in verdicts["table"] if not allowed}
    assert refused == {"192.0.2.66", "2001:db8:1:2::5", "2001:db8:1:2::6"}
    guesses = [allowed for at, address, _w, allowed in verdicts["table"] if address == "192.0.2.66"]
    # The limit, then nothing; two windows later the limit again, then nothing.
    assert guesses == [True] * LIMIT + [False] * 55 + [True] * LIMIT + [False] * 3


def test_in_memory_limiter():
    clock = HandClock(0.0)
    limiter = RateLimiter(2, 10, clock=clock)
    assert limiter.allow("a")[0] and limiter.allow("a")[0] and not limiter.allow("a")[0]
    clock.now = 10.5
    assert limiter.allow("a")[0]


def test_forwarded_for_only_from_a_trusted_proxy():
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5, 10.0.0.1"}
    assert client_address(environ, {"127.0.0.1", "10.0.0.1"}) == "203.0.113.5"
    assert client_address(environ, set()) == "127.0.0.1"


def test_an_ipv6_prefix_is_one_client(tmp_path):
    limiter = shared(tmp_path, limit=2)
    assert limiter.allow("2001:db8:1:2::1")[0] and limiter.allow("2001:db8:1:2:ffff::9")[0]
    assert not limiter.allow("2001:db8:1:2:dead:beef:0:1")[0]      # same /64
    assert limiter.allow("2001:db8:1:3::1")[0]                      # another household
    assert limiter.allow("::ffff:192.0.2.1")[0] and limiter.allow("192.0.2.1")[0]
    assert not limiter.allow("192.0.2.1")[0]                        # IPv4-mapped is the same
    memory = RateLimiter(1, 300)
    assert memory.allow("2001:db8::1")[0] and not memory.allow("2001:db8::2")[0]


def test_check_counts_nothing_and_fail_counts_one(tmp_path):
    limiter = SharedRateLimiter(tmp_path / "limit.table", 2, NEVER_TURNS, secret=b"k" * 32)
    for _ in range(10):
        assert limiter.check("203.0.113.1") == (True, 0)
    limiter.fail("203.0.113.1")
    limiter.fail("203.0.113.1")
    allowed, retry = limiter.check("203.0.113.1")
    assert not allowed and retry > 0


HAMMER = """
import sys
from public_mirror.ratelimit import SharedRateLimiter
limiter = SharedRateLimiter(sys.argv[1], 25, 10**9, secret=b"s" * 32)
sys.stdin.readline()                       # both start together
print(sum(limiter.allow("203.0.113.9")[0] for _ in range(2000)))
"""


def test_two_separate_server_processes_share_the_limit_exactly(tmp_path):
    """Two interpreters started apart (as two servers of the host would be), racing on one
    address: together they allow exactly the limit, no more."""
    import subprocess
    import sys

    runs = [subprocess.Popen([sys.executable, "-c", HAMMER, str(tmp_path / "t")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    for run in runs:
        run.stdin.write("go\n")
        run.stdin.flush()
    allowed = [int(run.communicate(timeout=60)[0]) for run in runs]
    assert sum(allowed) == 25


HAMMER_MIXED = """
import sys
from public_mirror.ratelimit import SharedRateLimiter
limiter = SharedRateLimiter(sys.argv[1], 25, 10**9, secret=b"s" * 32)
sys.stdin.readline()
failures = checks_after = 0
refused = False   # a failure of this process was refused: the limit is reached
for _ in range(2000):
    if limiter.check("203.0.113.9")[0] and refused:
        checks_after += 1
    allowed = limiter.allow("203.0.113.9")[0]
    failures += allowed
    refused = refused or not allowed
print(failures, checks_after)
"""


def test_found_answers_judged_without_the_lock_never_open_the_limit(tmp_path):
    """Two interpreters, each asking alternately a question that counts nothing (a found
    answer: judged without flock while well within the limit) and a failure (counted under
    flock): together exactly the limit of failures, and once it is reached neither lets a
    question through — nor does a third process afterwards."""
    import subprocess
    import sys

    runs = [subprocess.Popen([sys.executable, "-c", HAMMER_MIXED, str(tmp_path / "t")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    for run in runs:
        run.stdin.write("go\n")
        run.stdin.flush()
    results = [run.communicate(timeout=60)[0].split() for run in runs]
    assert sum(int(failures) for failures, _ in results) == 25
    assert all(after == "0" for _, after in results)
    assert SharedRateLimiter(tmp_path / "t", 25, NEVER_TURNS, secret=SECRET).check("203.0.113.9")[0] \
        is False


def test_a_client_past_its_first_probe_keeps_its_own_slot(tmp_path):
    """Clients whose keys share a first slot: each finds its own in the probes after it."""
    limiter = SharedRateLimiter(tmp_path / "t", 2, 300, secret=SECRET, clock=HandClock(), slots=1)
    addresses = [f"203.0.113.{n}" for n in range(5)]
    for address in addresses:
        assert limiter.allow(address) == (True, 0)
    for address in addresses:
        assert limiter.allow(address) == (True, 0)
        assert not limiter.allow(address)[0]


# --- issue 25 item 6: a file that is cut, replaced or cannot grow --------------------

class Lines:
    """The rate limiter's log lines, as the journal would show them."""

    def __init__(self):
        import logging

        self.messages: list[str] = []
        self.handler = logging.Handler()
        self.handler.emit = lambda record: self.messages.append(record.getMessage())
        self.logger = logging.getLogger("public_mirror.ratelimit")

    def __enter__(self):
        self.logger.addHandler(self.handler)
        return self.messages

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)


def _use_while_cut(path, seconds, results):
    """A web worker answering lookups as fast as it can while the file is cut under it."""
    import time

    with Lines() as messages:
        limiter = SharedRateLimiter(path, 1_000_000, 300, secret=SECRET)
        deadline, calls = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            limiter.allow(f"203.0.113.{calls % 250}")
            calls += 1
    results.put((calls, messages))


def test_cutting_the_file_under_a_working_process_never_kills_it(tmp_path):
    """The attack: ``: > rate-limit.table`` (and cuts to odd sizes) while a worker answers.
    A memory-mapped table died of SIGBUS at the next touch, with no log line; the worker now
    finishes, says the file was cut, and keeps sharing the file it made whole again."""
    import os
    import time

    path = tmp_path / "rate-limit.table"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    worker = context.Process(target=_use_while_cut, args=(path, 4.0, results))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not (path.exists() and path.stat().st_size > 1_000_000):
            assert time.monotonic() < deadline and worker.is_alive(), "the worker never began"
            time.sleep(0.01)
        cuts = 0
        while worker.is_alive() and cuts < 300:
            os.truncate(path, (0, 100, 4096, 1_000_000)[cuts % 4])
            cuts += 1
            time.sleep(0.005)
        # Read before joining: a child whose result is larger than the pipe's buffer cannot
        # exit until it is read (seen as a worker killed after the join's timeout).
        try:
            calls, messages = results.get(timeout=120)
        except queue.Empty:             # it died before saying: the exit code says how
            calls, messages = 0, []
        worker.join(120)
    finally:
        if worker.is_alive():
            worker.kill()
    assert worker.exitcode == 0, f"the worker died (exit {worker.exitcode}; -7 is SIGBUS)"
    assert calls > 100 and cuts >= 50
    assert any("cut by hand" in line and "made whole again" in line for line in messages)
    after = shared(tmp_path)                                # the next worker to look
    assert after.allow("203.0.113.1") == (True, 0) and path.stat().st_size == after.size


def test_a_file_replaced_under_its_name_is_shared_again(tmp_path):
    """The attack: the file replaced (``mv`` of another file over it). A worker that kept the
    old one and a worker started since split the limit between two files; both now use the
    file under the name."""
    import os

    clock, looks = HandClock(), HandClock()
    path = tmp_path / "rate-limit.table"
    old = shared(tmp_path, limit=4, clock=clock)
    old.looks_clock = looks
    assert old.allow("198.51.100.1")[0]                    # holds the first file
    (tmp_path / "new").write_bytes(b"\x07" * 100)           # short, and not zeros
    os.replace(tmp_path / "new", path)
    looks.advance(RELOOK / 2)
    assert old.allow("198.51.100.1")[0]                    # not looked at again yet: the old
    looks.advance(RELOOK / 2)                               # what is there is looked at again
    with Lines() as messages:
        new = shared(tmp_path, limit=4, clock=clock)
        verdicts = [limiter.allow("203.0.113.9")[0] for limiter in (old, new) * 3]
    assert verdicts == [True, True, True, True, False, False]
    assert any("replaced or removed" in line for line in messages)
    assert path.stat().st_size == old.size


def test_something_else_under_the_name_falls_back_with_one_log_line(tmp_path, monkeypatch):
    """A directory, a link (never followed) or a pipe where the file was: each worker
    limits on its own and says so once; once a file can be made again, they share it."""
    import os

    monkeypatch.setattr(ratelimit, "RELOOK", 0)             # looked at on every request

    path = tmp_path / "rate-limit.table"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    for plant in (path.mkdir, lambda: path.symlink_to(elsewhere), lambda: os.mkfifo(path)):
        clock = HandClock()
        limiter = shared(tmp_path, limit=2, clock=clock)
        assert limiter.allow("203.0.113.1")[0]
        path.unlink()
        plant()
        with Lines() as messages:
            verdicts = [limiter.allow("203.0.113.2")[0] for _ in range(5)]
        assert verdicts == [True, True, False, False, False]  # its own limit, still a limit
        unusable = [line for line in messages if "unusable" in line]
        assert len(unusable) == 1 and "this worker limits on its own" in unusable[0]
        assert elsewhere.read_bytes() == b""                  # a link is not followed
        path.rmdir() if path.is_dir() else path.unlink()
        with Lines() as messages:
            assert limiter.allow("203.0.113.3")[0]
        assert any("usable again" in line for line in messages)
        assert path.is_file() and not path.is_symlink()
        path.unlink()


def _slot_as_it_was(region: bytes, first: int, key: bytes, current: float):
    """The probe loop the C-searched ``_slot`` replaced: the reference it must agree with."""
    size, empty = ratelimit._SLOT.size, bytes(16)
    taken, taken_age = first, float("inf")
    for probe, (held, start, hits, before) in enumerate(ratelimit._SLOT.iter_unpack(region)):
        if held == key:
            return first + probe * size, start, hits, before
        age = float("-inf") if held == empty else start
        if age < taken_age:
            taken, taken_age = first + probe * size, age
    return taken, current, 0, 0


_KEYS = st.sampled_from([bytes(16), b"k" * 16, b"\x00" * 8 + b"k" * 8, b"k" * 8 + bytes(8),
                         bytes(12) + b"kkkk"])
_PROBE = st.tuples(_KEYS, st.sampled_from([0.0, 600.0, 900.0, 1200.0]),
                   st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))


@given(st.lists(_PROBE, min_size=ratelimit._PROBES, max_size=ratelimit._PROBES), _KEYS)
def test_the_slot_found_or_taken_is_the_probe_loops(probes, key):
    """Keys that straddle slots (zeros, a key's halves), empty and stale probes, ties of age:
    the same slot, window and counts as looking at each probe in turn."""
    region = b"".join(ratelimit._SLOT.pack(*probe) for probe in probes)

    class Table(SharedRateLimiter):
        def _read(self, descriptor, offset, length):
            return region

    table = Table("unused", 3, 300, secret=SECRET)
    first = (int.from_bytes(key[:8], "big") % table.slots + 1) * ratelimit._SLOT.size
    assert table._slot(0, key, 1500.0) == _slot_as_it_was(region, first, key, 1500.0)


# --- what the estimate lets through at worst ------------------------------------------------

def _most_in_one_window(allowed: list[float], window: float) -> int:
    return max((sum(1 for u in allowed if t <= u < t + window) for t in allowed), default=0)


@given(limit=st.integers(1, 6), offsets=st.lists(st.floats(0, 1500), max_size=120),
       edges=st.booleans())
def test_in_any_span_of_one_window_at_most_twice_the_limit_gets_through(
        tmp_path_factory, limit, offsets, edges):
    """The shared table's estimate (the hits of the window before, weighted by its share
    still to run, plus this window's) is not a true sliding window: a burst just before a
    window turns and the next window's share let up to twice the limit through within one
    window's span — never more (the security review states this bound). The per-process
    fallback keeps exactly the limit. `edges`: bursts around every turn, the attacker's
    best timing."""
    start, window = 3000.0, 300.0
    times = [start + o for o in offsets]
    if edges:
        times += [start + window * k + d for k in range(1, 6) for d in (-1e-6, 0.0, 1e-3)
                  for _ in range(limit + 1)]
    times.sort()
    clock = HandClock(start)
    shared_limiter = shared(tmp_path_factory.mktemp("t"), limit=limit, window=window,
                            clock=clock)
    memory = RateLimiter(limit, window, clock=clock)
    through: dict[str, list[float]] = {"shared": [], "memory": []}
    for moment in times:
        clock.now = moment
        for name, limiter in (("shared", shared_limiter), ("memory", memory)):
            if limiter.allow("203.0.113.9")[0]:
                through[name].append(moment)
    assert _most_in_one_window(through["shared"], window) <= 2 * limit
    assert _most_in_one_window(through["memory"], window) <= limit
