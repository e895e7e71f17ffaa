"""``shinsei-mirror recover``: re-establishing the receiver's records after a person has
looked at why they disagreed (see public_mirror.ledger). The recovery is itself a record
in the activation log, naming the operator and what it found."""

import json
import os
import time
from pathlib import Path

from public_mirror import activation_log
from public_mirror.ledger import State, StateError, read_active, read_state, since_recovery
from public_mirror.quarantine import move_aside
from public_mirror.settings import MirrorPaths
from transfer.files import write_atomically


def _salvage_log(path: Path) -> tuple[list[dict], bytes, bool]:
    """The longest prefix of the log that is whole and chained: (records, their bytes, cut?)."""
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        return [], b"", False
    chain: list[dict] = []
    kept = b""
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            break
        if not isinstance(record, dict) or not activation_log.verify_records([*chain, record])[0]:
            break
        chain.append(record)
        kept += line
    return chain, kept, len(kept) < sum(len(line) for line in lines)


def recover(paths: MirrorPaths, operator: str, sequence: int | None = None) -> tuple[State, list[str]]:
    """Re-establish the three records after a person has looked at why they disagreed.

    The log keeps its longest intact prefix (the whole original is kept beside it); an
    active snapshot that cannot be read, or is ahead of the chosen sequence, is moved to
    the quarantine; the sequence is the one given, or else the highest any readable record
    shows. The recovery itself is a record in the activation log, with what it found.
    """
    log, found = paths.activation_log, []
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    chain, kept, cut = _salvage_log(log)
    if cut:
        os.replace(log, log.with_name(f"{log.name}.{stamp}.damaged"))
        write_atomically(log, kept)
        found.append(f"{log.name} cut back to its {len(chain)} intact records "
                     f"(original kept as {log.name}.{stamp}.damaged)")
    try:
        state = read_state(paths.last_sequence)
    except StateError as error:
        state = None
        found.append(f"{paths.last_sequence.name} unreadable: {error.args[0].split('. ')[0]}")
    try:
        active = read_active(paths.active)
    except StateError:
        active = None
        _set_aside(paths, stamp, found, "unreadable")
    logged = [r.get("sequence") for r in since_recovery(chain) if r.get("outcome") == "accepted"]
    candidates = [s for s in (state and state.sequence, *logged, active and active[0])
                  if type(s) is int]
    target = sequence if sequence is not None else max(candidates, default=None)
    if active and (target is None or active[0] > target):
        _set_aside(paths, stamp, found, f"sequence {active[0]} ahead of {target}")
        active = None
    record = activation_log.append(log, "recovered", sequence=target, operator=operator,
                                   previous_sequence=state and state.sequence, found=found)
    recovered = State(target, active[1] if active and active[0] == target else None,
                      len(chain) + 1, record["hash"])
    write_atomically(paths.last_sequence, recovered.as_json())
    return recovered, found


def _set_aside(paths: MirrorPaths, stamp: str, found: list[str], why: str) -> None:
    paths.quarantine.mkdir(parents=True, exist_ok=True)
    target = move_aside(paths.active, paths.quarantine, f"{stamp}-active.snapshot")
    found.append(f"active snapshot ({why}) moved to {target}")
