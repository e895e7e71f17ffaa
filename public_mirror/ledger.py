"""What the receiver has accepted, kept three ways and checked against each other.

The state file (``last-sequence``: sequence, SHA-256 of the snapshot that should be active,
the activation log's length and head), the hash-chained activation log, and the active
snapshot's own header. The highest accepted sequence is the highest any of them shows.
When they disagree, or one cannot be read, receiving stops with a message naming the file
and the recovery command (``shinsei-mirror recover``, logged in the activation log):
deleting, cutting or re-chaining one of them never opens the door to an older snapshot.

Each step of an activation is written in an order that survives a crash or a full disk
at any point: log record (fsync) → state file (atomic) → active snapshot (atomic) →
inbox file removed. The log record is the intent; a run that finds the state or the
active file behind it completes the activation when the same file is offered again.
"""

import fcntl
import hashlib
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from public_mirror import activation_log
from public_mirror.settings import MirrorPaths
from transfer.errors import SnapshotError
from transfer.files import write_atomically
from transfer.snapshot import parse

RECOVERY = "shinsei-mirror -c <ini> recover"
_SHA = re.compile(r"^[0-9a-f]{64}$")


class StateError(Exception):
    """The receiver's records disagree or cannot be read: receiving stops until a person looks."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}. Nothing was received. Find out why (docs/runbook), "
                         f"then run `{RECOVERY}`.")
        self.path = path


class ReceiverBusy(Exception):
    """Another receiver holds the state directory."""


@dataclass(frozen=True)
class State:
    sequence: int | None
    sha256: str | None          # the snapshot that should be active
    log_records: int
    log_head: str

    def as_json(self) -> bytes:
        return (json.dumps({"sequence": self.sequence, "sha256": self.sha256,
                            "log_records": self.log_records, "log_head": self.log_head},
                           sort_keys=True) + "\n").encode()


FRESH = State(None, None, 0, activation_log.GENESIS)


@contextmanager
def receiver_lock(paths: MirrorPaths, wait: float = 30.0):
    """One receiver at a time on a state directory (a watcher, the path unit and a person
    typing ``receive`` may all start one). The second waits, then gives up saying why."""
    paths.state.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(paths.state / "receive.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                         0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ReceiverBusy(f"another receiver is working on {paths.state} "
                                       f"(waited {wait:g} s); try again when it has finished") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)   # closing releases the lock


def read_state(path: Path) -> State | None:
    return _state_and_time(path)[0]


def _state_and_time(path: Path) -> tuple[State | None, int]:
    """The state and when it was written, both of one version of the file: opened once,
    its time taken from the open file. The receiver replaces the file whole; taken by its
    name twice, the time of one version and the content of the next would judge a file
    activated a moment ago as put in place after its record (a resident told 更新中)."""
    try:
        with path.open("rb") as handle:
            written = os.fstat(handle.fileno()).st_mtime_ns
            raw = handle.read()
    except FileNotFoundError:
        return None, 0
    except OSError as error:
        raise StateError(path, f"cannot be read ({error.strerror})") from None
    return _parsed_state(path, raw), written


def _parsed_state(path: Path, raw: bytes) -> State:
    try:
        data = json.loads(raw)
        state = State(data["sequence"], data["sha256"], data["log_records"], data["log_head"])
    except (ValueError, KeyError, TypeError):
        raise StateError(path, "is not a state record the receiver wrote") from None
    sequence_ok = state.sequence is None or (type(state.sequence) is int and state.sequence >= 1)
    if (not sequence_ok or type(state.log_records) is not int or state.log_records < 0
            or not (state.sha256 is None or _SHA.match(str(state.sha256)))
            or not _SHA.match(str(state.log_head))):
        raise StateError(path, "holds values no receiver writes (a sequence must be a positive "
                               "whole number)")
    return state


def read_active(path: Path) -> tuple[int, str] | None:
    """(sequence, SHA-256) of the active snapshot, from its own header."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateError(path, f"cannot be read ({error.strerror})") from None
    try:
        sequence = parse(data).header.get("sequence")
    except SnapshotError as error:
        raise StateError(path, f"is not a snapshot ({error})") from None
    if type(sequence) is not int:
        raise StateError(path, "has no sequence in its header")
    return sequence, hashlib.sha256(data).hexdigest()


def read_log(path: Path) -> list[dict]:
    try:
        chain = list(activation_log.records(path))
    except activation_log.DamagedLog as damaged:
        raise StateError(path, str(damaged).removeprefix(f"{path} ")) from None
    except OSError as error:
        raise StateError(path, f"cannot be read ({error.strerror})") from None
    intact, _count, reason = activation_log.verify_records(chain)
    if not intact:
        raise StateError(path, f"the chain is broken: {reason}")
    return chain


def since_recovery(chain: list[dict]) -> list[dict]:
    """Records after the last recovery: a recovery sets a new baseline on purpose."""
    marks = [i for i, record in enumerate(chain) if record.get("outcome") == "recovered"]
    return chain[marks[-1] + 1:] if marks else chain


class Ledger:
    """The three records, loaded and checked; the one place that writes them."""

    def __init__(self, paths: MirrorPaths, *, write: bool = True):
        """``write=False`` only reads (``shinsei-mirror status``)."""
        self.paths, self.write = paths, write
        chain = read_log(paths.activation_log)
        state = read_state(paths.last_sequence)
        self.active = read_active(paths.active)
        if state is None:
            if chain or self.active:
                raise StateError(paths.last_sequence,
                                 f"is missing, but the activation log holds {len(chain)} records"
                                 f"{' and a snapshot is active' if self.active else ''}")
            state = FRESH
        self.state = self._settle(state, chain)
        self._check_agreement(since_recovery(chain))

    def _settle(self, state: State, chain: list[dict]) -> State:
        """Compare the log with what the state file says of it; fold in the one record a
        crash may have left between the log and the state file."""
        log = self.paths.activation_log
        if len(chain) < state.log_records:
            raise StateError(log, f"has {len(chain)} records, but {state.log_records} were "
                                  "written (cut short or deleted)")
        if activation_log.head(chain[:state.log_records]) != state.log_head:
            raise StateError(log, f"record {state.log_records} is not the one the receiver "
                                  "wrote (re-chained or replaced)")
        pending = chain[state.log_records:]
        if len(pending) > 1:
            raise StateError(log, f"has {len(pending)} records the state file does not know of")
        if not pending:
            return state
        record = pending[0]
        settled = replace(state, log_records=len(chain), log_head=record["hash"])
        if record.get("outcome") == "accepted":
            settled = replace(settled, sequence=record.get("sequence"), sha256=record.get("sha256"))
        if self.write:
            write_atomically(self.paths.last_sequence, settled.as_json())
        return settled

    def _check_agreement(self, chain: list[dict]) -> None:
        accepted = [r.get("sequence") for r in chain if r.get("outcome") == "accepted"]
        logged = max((s for s in accepted if type(s) is int), default=None)
        if logged is not None and (self.state.sequence is None or logged > self.state.sequence):
            raise StateError(self.paths.last_sequence,
                             f"says {self.state.sequence}, the activation log accepted {logged}")
        if self.active:
            sequence, sha = self.active
            if self.state.sequence is None or sequence > self.state.sequence or (
                    sequence == self.state.sequence and sha != self.state.sha256):
                raise StateError(self.paths.active,
                                 f"has sequence {sequence}, the state file says "
                                 f"{self.state.sequence} (replaced by hand?)")

    @property
    def highest(self) -> int | None:
        """The highest accepted sequence any record shows (they agree once loaded)."""
        known = [s for s in (self.state.sequence, self.active and self.active[0]) if s]
        return max(known, default=None)

    @property
    def active_sha(self) -> str | None:
        return self.active[1] if self.active else None

    @property
    def unfinished_sha(self) -> str | None:
        """The snapshot accepted and logged whose activation did not finish (crash, full disk)."""
        return self.state.sha256 if self.state.sha256 != self.active_sha else None

    def _logged(self, record: dict) -> None:
        self.state = replace(self.state, log_records=self.state.log_records + 1,
                             log_head=record["hash"])

    def reject(self, **fields) -> None:
        self._logged(activation_log.append(self.paths.activation_log, "rejected", **fields))
        write_atomically(self.paths.last_sequence, self.state.as_json())

    def accept(self, data: bytes, sha: str, sequence: int, **fields) -> None:
        """Log (fsync) → state → active: a failure at any step leaves the old snapshot
        serving and the same file acceptable again."""
        record = activation_log.append(self.paths.activation_log, "accepted", sequence=sequence,
                                       sha256=sha, size=len(data), **fields)
        self._logged(record)
        self.state = replace(self.state, sequence=sequence, sha256=sha)
        write_atomically(self.paths.last_sequence, self.state.as_json())
        self.finish(data, sha, sequence)

    def finish(self, data: bytes, sha: str, sequence: int) -> None:
        write_atomically(self.paths.active, data)
        self.active = (sequence, sha)


# What the web workers and ``status`` check at each look at the active file: is the file
# residents are told from the one the receiver's ledger says it activated? A signed older
# snapshot copied over it by hand verifies perfectly; only the ledger knows it is not today's.
AGREES, ACTIVATING, MISMATCH = "agrees", "activating", "mismatch"


def judge_active(sequence: int, sha: str, placed_ns: int, state_path: Path) -> tuple[str, str]:
    """(``AGREES`` | ``ACTIVATING`` | ``MISMATCH``, why) for the active file with this
    ``sequence`` and ``sha`` (SHA-256 of its bytes), put in place at ``placed_ns`` (its
    ``st_ctime_ns``: a copy or a move sets it; no one can set it back).

    ``ACTIVATING``: an older file that was in place before the receiver recorded a newer
    one — an activation under way (the state file is written before the active file) or
    one a full disk left unfinished. It keeps answering, as it did; a file put in place
    after the ledger's record that is not the recorded one is a ``MISMATCH``."""
    try:
        state, written = _state_and_time(state_path)
    except StateError as error:
        return MISMATCH, f"the receiver's ledger cannot be read: {str(error).split('. ')[0]}"
    if state is None:
        return MISMATCH, (f"{state_path} is missing: the receiver has recorded no snapshot, "
                          f"yet sequence {sequence} is in place")
    if sha == state.sha256 and sequence == state.sequence:
        return AGREES, ""
    if state.sequence is not None and sequence < state.sequence and placed_ns <= written:
        return ACTIVATING, (f"sequence {state.sequence} accepted, its activation not finished; "
                            f"sequence {sequence} answers meanwhile")
    return MISMATCH, (f"the active file is sequence {sequence} (SHA-256 {sha[:16]}…), the "
                      f"receiver's ledger says {state.sequence} (SHA-256 "
                      f"{str(state.sha256)[:16]}…): replaced by hand? Residents are told "
                      f"更新中 until they agree (docs/runbook)")
