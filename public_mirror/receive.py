"""Taking snapshots from the inbox: verify, then activate or quarantine, and log either way.

One receiver at a time holds the state directory. Before anything is read from the inbox
the receiver's three records are checked against each other (``public_mirror.ledger``);
the trust policy is read again for every file, so a key removed from the trusted
directory is refused by a long-running watcher too.
"""

import hashlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from public_mirror.failures import log_failure
from public_mirror.inbox import Vanished, pending, read_regular, sweep_abandoned
from public_mirror.ledger import Ledger, receiver_lock
from public_mirror.quarantine import move_aside, quarantine_name, shown
from public_mirror.settings import MirrorPaths
from transfer.errors import KeyFileError, SnapshotError
from transfer.snapshot import parse_time
from transfer.verify import TrustPolicy, verify_snapshot

log = logging.getLogger(__name__)
REASON_LIMIT = 500


class ImplausibleSnapshot(SnapshotError):
    """Signed, but dated in the future or numbered far beyond its own time."""


class UnknownLookupKey(SnapshotError):
    """Signed, but its hashes were made with a lookup key this host does not hold: taken,
    it would answer every resident "not found"."""


@dataclass(frozen=True)
class Limits:
    max_sequence_ahead: int = 7 * 24 * 3600
    max_clock_skew: int = 3600


@dataclass(frozen=True)
class Outcome:
    file: str
    accepted: bool
    reason: str = ""
    sequence: int | None = None


def receive_once(paths: MirrorPaths, trust, now: datetime | None = None,
                 limits: Limits = Limits(), wait: float = 30.0,
                 lookup_keys=None) -> list[Outcome]:
    """``trust``: a TrustPolicy, or a callable returning the current one (read per file).
    ``lookup_keys`` (``public_mirror.lookup_keys``): a snapshot made with a lookup key not
    among them is refused; None: not checked.

    Raises ``ledger.StateError`` when the records disagree and ``ledger.ReceiverBusy``
    when another receiver holds the state directory: the CLI says why and exits.
    """
    for directory in (paths.inbox, paths.quarantine, paths.state):
        directory.mkdir(parents=True, exist_ok=True)
    policy_source: Callable[[], TrustPolicy] = trust if callable(trust) else (lambda: trust)
    outcomes: list[Outcome] = []
    with receiver_lock(paths, wait):
        sweep_abandoned(paths.inbox)
        waiting = pending(paths.inbox)
        if not waiting:
            return outcomes   # nothing to read: the records (and the active file) are left alone
        ledger = Ledger(paths)
        for path in waiting:
            try:
                outcome = _receive(path, ledger, policy_source, now or datetime.now(UTC), limits,
                                   lookup_keys)
            except Vanished:
                continue
            outcomes.append(outcome)
            if outcome.reason.startswith("not received"):
                break   # the host cannot write its own records: the next file would fail too
    return outcomes


def watch(paths: MirrorPaths, trust, interval: float = 2.0,
          limits: Limits = Limits(), lookup_keys=None) -> None:
    """Receive every ``interval`` seconds until stopped; the trust policy is read per file.
    A problem that stops receiving is reported once, not every turn, until it changes.
    SIGTERM (systemctl stop) ends the loop between turns, never inside an activation."""
    reported, stopping = None, []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    while not stopping:
        try:
            for outcome in receive_once(paths, trust, limits=limits, lookup_keys=lookup_keys):
                _print(outcome)
            reported = None
        except Exception as error:   # a watcher reports, and keeps watching for the cure
            if str(error) != reported:
                log.error("receiving stopped: %s", error)
                print(f"receiving stopped: {error}", file=sys.stderr, flush=True)
                reported = str(error)
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.05, interval))


def _print(outcome: Outcome) -> None:
    if outcome.accepted:
        print(f"accepted {shown(outcome.file)}: sequence {outcome.sequence}"
              f"{' (' + outcome.reason + ')' if outcome.reason else ''}", flush=True)
    else:
        print(f"rejected {shown(outcome.file)}: {outcome.reason}", file=sys.stderr, flush=True)


def _receive(path: Path, ledger: Ledger, policy_source, now: datetime, limits: Limits,
             lookup_keys=None) -> Outcome:
    name = path.name
    policy = policy_source()
    try:
        data = read_regular(path, policy)
        sha = hashlib.sha256(data).hexdigest()
        if ledger.active and sha == ledger.active[1]:
            path.unlink()
            return Outcome(name, True, "already active: nothing to do", ledger.active[0])
        if sha == ledger.unfinished_sha:
            return _finish(path, ledger, data, sha)
        snapshot = verify_snapshot(data, policy, last_sequence=ledger.highest, now=now)
        check_plausible(snapshot.header, now, limits)
        key_id = str(snapshot.header.get("lookup_key_id", ""))
        if lookup_keys is not None and lookup_keys.secret(key_id) is None:
            raise UnknownLookupKey(f"lookup key {key_id} is not on this host (it holds "
                                   f"{', '.join(lookup_keys.ids())}): carry the new lookup key "
                                   "here first; the live snapshot keeps answering")
    except SnapshotError as refused:
        return _refuse(path, ledger, f"{type(refused).__name__}: {refused}")
    except KeyFileError:
        raise   # the host's own trusted keys: not this file's fault, stop and say so
    except OSError as error:
        return _not_received(name, error)
    except Exception as error:   # a check that failed in a way no one foresaw: still a refusal
        log_failure(f"verifying {shown(name)}", error)
        return _refuse(path, ledger, f"Unverifiable: {type(error).__name__} while verifying")
    try:
        ledger.accept(data, sha, snapshot.sequence, file=shown(name), entries=snapshot.table.count,
                      created_at=snapshot.header["created_at"], signed_by=sorted(snapshot.signed_by),
                      # The intranet's signed audit checkpoint and approved content digest:
                      # this log is their witness, out of any intranet administrator's reach.
                      audit_checkpoint=snapshot.header.get("audit_checkpoint"),
                      content_digest=snapshot.header.get("content_digest"))
        path.unlink()
    except OSError as error:
        return _not_received(name, error)
    log.info("accepted %s: sequence %s", shown(name), snapshot.sequence)
    return Outcome(name, True, sequence=snapshot.sequence)


def _finish(path: Path, ledger: Ledger, data: bytes, sha: str) -> Outcome:
    """The file whose activation a crash or a full disk interrupted: complete it."""
    sequence = ledger.state.sequence
    assert sequence is not None   # an unfinished activation was logged with its sequence
    try:
        ledger.finish(data, sha, sequence)
        path.unlink()
    except OSError as error:
        return _not_received(path.name, error)
    log.info("completed the activation of %s: sequence %s", shown(path.name), sequence)
    return Outcome(path.name, True, "activation completed", sequence)


def _not_received(name: str, error: OSError) -> Outcome:
    reason = f"not received: the host could not write its records ({error.strerror or error}); "\
             "the live snapshot keeps serving and the file stays in the inbox"
    log.error("%s: %s", shown(name), reason)
    return Outcome(name, False, reason)


def check_plausible(header: dict, now: datetime, limits: Limits) -> None:
    """A sequence far ahead of time would make every later snapshot a "rollback"."""
    created = parse_time(header["created_at"])
    if (created - now).total_seconds() > limits.max_clock_skew:
        raise ImplausibleSnapshot(f"created at {header['created_at']}, in the future")
    ceiling = max(created.timestamp(), now.timestamp()) + limits.max_sequence_ahead
    if header["sequence"] > ceiling:
        raise ImplausibleSnapshot(f"sequence {header['sequence']} is implausibly far ahead "
                                  f"(more than {limits.max_sequence_ahead} s past its time)")


def _refuse(path: Path, ledger: Ledger, reason: str) -> Outcome:
    """Quarantine the file with its reason and log it; if it cannot be moved there, hide it
    in the inbox under a dot-name, so that it never blocks the files after it. The reason
    may quote the file's own fields: it is escaped and cut short before anyone reads it."""
    name, paths = path.name, ledger.paths
    reason = shown(reason)[:REASON_LIMIT]
    target_name = quarantine_name(name)
    size = _size(path)
    try:
        where = move_aside(path, paths.quarantine, target_name)
        (paths.quarantine / f"{target_name}.reason").write_text(
            f"{shown(name)}\n{reason}\n", encoding="utf-8")
    except OSError as error:
        where = path.with_name(f".refused-{target_name}")
        try:
            os.rename(path, where)
        except OSError:
            where = path
        reason += f" (quarantine failed: {error.strerror or error}; left as {shown(where.name)})"
    log.warning("rejected %s: %s", shown(name), reason)
    try:
        ledger.reject(file=shown(name), reason=reason, size=size, quarantined=shown(where.name))
    except OSError as error:
        return _not_received(name, error)
    return Outcome(name, False, reason)


def _size(path: Path) -> int | None:
    try:
        return path.lstat().st_size
    except OSError:
        return None
