"""The public host's own hash-chained log of every snapshot accepted or rejected.

One JSON object per line; each line carries the hash of the line before it, so an edited,
deleted or reordered line is found by ``verify_log``.
"""

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from transfer.envelope import canonical_json

GENESIS = "0" * 64


class DamagedLog(ValueError):
    """A line of the log is not a record (cut short, overwritten, not JSON)."""


def _digest(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _last(path: Path) -> dict | None:
    if not path.exists():
        return None
    last = None
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                last = line
    return json.loads(last) if last else None


def append(path: Path, outcome: str, **fields) -> dict:
    """Append one record (``accepted`` / ``rejected`` / ``recovered``) and fsync it before
    returning. If the write fails (a full disk), the log is cut back to what it was: a
    half-written line would stop every later receive."""
    previous = _last(path)
    record = {
        "n": (previous["n"] + 1) if previous else 1,
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "outcome": outcome,
        **fields,
        "prev": previous["hash"] if previous else GENESIS,
    }
    record["hash"] = _digest(record)
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    with path.open("ab") as handle:
        size = handle.seek(0, os.SEEK_END)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        except OSError:
            handle.truncate(size)
            raise
    return record


def records(path: Path):
    """Every record in order; ``DamagedLog`` names the first line that is not one."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise DamagedLog(f"{path} line {number} is damaged (not a JSON record)") from None
            if not isinstance(record, dict):
                raise DamagedLog(f"{path} line {number} is not a record")
            yield record


def verify_log(path: Path) -> tuple[bool, int, str]:
    """(chain intact?, records read, reason naming the first bad record). Whether the log
    is as long as the receiver left it is the ledger's check (public_mirror.ledger)."""
    try:
        return verify_records(list(records(path)))
    except DamagedLog as damaged:
        return False, 0, str(damaged)


def head(chain: list[dict]) -> str:
    return chain[-1]["hash"] if chain else GENESIS


def verify_records(chain: list[dict]) -> tuple[bool, int, str]:
    previous, expected = GENESIS, 1
    for record in chain:
        if record.get("n") != expected or record.get("prev") != previous:
            return False, expected - 1, f"record {expected} is missing or out of order"
        if _digest(record) != record.get("hash"):
            return False, expected - 1, f"record {expected} was altered"
        previous, expected = record["hash"], expected + 1
    return True, expected - 1, ""


def last_audit_checkpoint(path: Path) -> dict | None:
    """The intranet's latest signed audit checkpoint this host accepted (its witness)."""
    record = _latest(path, lambda r: isinstance(r.get("audit_checkpoint"), dict))
    return None if record is None else record["audit_checkpoint"]


def audit_checkpoints(path: Path) -> list[dict]:
    """Every signed audit checkpoint this host accepted, oldest first, each once: what
    ``shinsei-mirror status --checkpoints`` prints for the intranet's ``audit verify
    --mirror-checkpoints`` (which checks each signature; nothing is trusted here). The
    whole log is read: a few records a day. ``DamagedLog`` names a line that is no record."""
    seen, found = set(), []
    for record in records(path):
        checkpoint = record.get("audit_checkpoint")
        if record.get("outcome") != "accepted" or not isinstance(checkpoint, dict):
            continue
        line = json.dumps(checkpoint, sort_keys=True, ensure_ascii=False)
        if line not in seen:
            seen.add(line)
            found.append(checkpoint)
    return found


def _latest(path: Path, wanted) -> dict | None:
    """The last readable record that ``wanted`` accepts, from the whole log (a few records
    a day; a tail of fixed size let one long record hide the one wanted). A damaged line is
    skipped here (``verify_log`` is what reports it)."""
    found = None
    try:
        with path.open("rb") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and wanted(record):
                    found = record
    except FileNotFoundError:
        return None
    return found
