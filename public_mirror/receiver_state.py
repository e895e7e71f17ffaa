"""What ``/healthz`` says of the receiver, read from what it leaves behind.

The web workers cannot ask systemd (their sandbox sees no other unit), so the receiver's
state is read from its files: the activation log (every accepted or refused snapshot, with
when) and the inbox (what is waiting for it). A file waiting longer than ``STALLED_AFTER``
means receiving has stopped, whatever stopped it — the unit or its path watch stopped, its
start limit hit, or the records disagreeing (``public_mirror.ledger``: it refuses to run
until ``recover``). Residents are still answered from the active snapshot; the monitoring
must be told.

The log is read whole, once per change of the file (a few times a day), not from a tail:
a tail of fixed size let one long record (a 256 KB audit checkpoint) hide the last
refusal. What is reported is bounded: each text at ``FIELD_LIMIT`` characters.
"""

import json
import os
import threading
import time
from pathlib import Path

from public_mirror.inbox import pending
from public_mirror.quarantine import shown

STALLED_AFTER = 600   # seconds a file may wait in the inbox before receiving counts as stopped
FIELD_LIMIT = 500     # characters of any text /healthz repeats from the log
_REFUSED = b'"outcome": "rejected"'   # as activation_log writes it (json.dumps, sort_keys)


def bounded(value) -> str | None:
    if value is None:
        return None
    text = shown(str(value))
    return text if len(text) <= FIELD_LIMIT else text[:FIELD_LIMIT - 1] + "…"


def read_log(path: Path) -> tuple[dict | None, dict | None]:
    """(the last record, the last refusal) of the whole log, a line at a time; only the
    last line and the lines that may be refusals are parsed."""
    last_line, refusal = b"", None
    try:
        with path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                last_line = line
                if _REFUSED in line:
                    record = _record(line)
                    if record is not None and record.get("outcome") == "rejected":
                        refusal = record
    except FileNotFoundError:
        return None, None
    return _record(last_line), refusal


def _record(line: bytes) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None   # a damaged line: verify_log and the receiver report it
    return record if isinstance(record, dict) else None


class ReceiverWatch:
    """The receiver's state for ``/healthz``; the log re-read only when it changed."""

    def __init__(self, inbox: Path, activation_log: Path, stalled_after: float = STALLED_AFTER,
                 clock=time.time):
        self.inbox, self.log, self.stalled_after, self.clock = (inbox, activation_log,
                                                                stalled_after, clock)
        self._lock = threading.Lock()
        self._seen: tuple = (None, (None, None))

    def report(self) -> dict:
        last, refusal = self._log()
        state, problem = self._waiting()
        return {
            "state": state,
            "problem": problem,
            "last_attempt": last and {"at": bounded(last.get("at")),
                                      "outcome": bounded(last.get("outcome"))},
            "last_refusal": refusal and {"at": bounded(refusal.get("at")),
                                         "file": bounded(refusal.get("file")),
                                         "reason": bounded(refusal.get("reason"))},
        }

    def _log(self) -> tuple[dict | None, dict | None]:
        try:
            stat = os.stat(self.log)
            identity = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        except OSError:
            identity = None
        with self._lock:
            if identity != self._seen[0]:
                self._seen = (identity, read_log(self.log))
            return self._seen[1]

    def _waiting(self) -> tuple[str, str | None]:
        try:
            waiting = pending(self.inbox)
            oldest = os.stat(waiting[0], follow_symlinks=False).st_mtime if waiting else None
        except FileNotFoundError:
            oldest = None   # taken meanwhile, or no inbox yet
        except OSError as error:
            return "unknown", bounded(f"the inbox cannot be read: {error.strerror}")
        if oldest is None:
            return "ok", None
        waited = int(self.clock() - oldest)
        if waited <= self.stalled_after:
            return "ok", None
        return "stopped", (f"{len(waiting)} file(s) waiting in the inbox, the oldest for "
                           f"{waited // 60} min: the receiver is not taking them "
                           "(shinsei-mirror status; docs/runbook)")
