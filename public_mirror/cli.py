"""``shinsei-mirror``: take snapshots from the inbox, report the mirror's state, recover it."""

import argparse
import getpass
import json
import logging
import os
import sys
from datetime import UTC, datetime

from pyramid.paster import get_appsettings, setup_logging

from public_mirror import activation_log, ledger, receive, recovery, usage
from public_mirror import settings as settings_loader
from public_mirror.quarantine import shown
from public_mirror.receiver_state import ReceiverWatch
from public_mirror.store import ActiveSnapshot, is_expired
from transfer import version
from transfer.errors import KeyFileError

log = logging.getLogger("public_mirror.cli")
INSTALLED_CONFIG = "/etc/shinsei/mirror.ini"


def _default_config() -> str:
    """The environment's choice, else the installed settings, else the development ones."""
    if os.environ.get("SHINSEI_MIRROR_CONFIG"):
        return os.environ["SHINSEI_MIRROR_CONFIG"]
    return INSTALLED_CONFIG if os.path.exists(INSTALLED_CONFIG) else "mirror-development.ini"


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        setup_logging(args.config)
        settings = settings_loader.load(get_appsettings(args.config))
    except (OSError, ValueError, LookupError, KeyFileError,
            settings_loader.MirrorSettingsError) as error:
        print(f"shinsei-mirror: {args.config}: {error}\n(give the mirror's settings with "
              f"-c, e.g. -c {INSTALLED_CONFIG}, or set SHINSEI_MIRROR_CONFIG)", file=sys.stderr)
        return 2
    return args.command(settings, args) or 0


def _limits(settings) -> receive.Limits:
    return receive.Limits(settings["mirror.max_sequence_ahead"], settings["mirror.max_clock_skew"])


def receive_command(settings, args):
    paths, trust = settings["mirror.paths"], settings["mirror.trust"]
    if args.watch:
        receive.watch(paths, trust, args.interval, _limits(settings),
                      settings["mirror.lookup_keys"])
        return 0
    try:
        outcomes = receive.receive_once(paths, trust, limits=_limits(settings), wait=args.wait,
                                        lookup_keys=settings["mirror.lookup_keys"])
    except (ledger.StateError, ledger.ReceiverBusy, KeyFileError) as error:
        log.error("receiving stopped: %s", error)
        print(f"shinsei-mirror: {error}", file=sys.stderr)
        return 75 if isinstance(error, ledger.ReceiverBusy) else 2
    for outcome in outcomes:
        receive._print(outcome)
    return 1 if any(not o.accepted for o in outcomes) else 0


def recover_command(settings, args):
    paths = settings["mirror.paths"]
    try:
        with ledger.receiver_lock(paths, args.wait):
            state, found = recovery.recover(paths, getpass.getuser(), args.sequence)
    except ledger.ReceiverBusy as error:
        print(f"shinsei-mirror: {error}", file=sys.stderr)
        return 75
    for line in found:
        print(f"found: {line}")
    print(f"recovered: last accepted sequence {state.sequence}, activation log "
          f"{state.log_records} records (the recovery is its last record)")
    log.warning("state recovered by %s: sequence %s; %s", getpass.getuser(), state.sequence,
                "; ".join(found) or "nothing else found")
    return 0


def status_command(settings, args):
    paths = settings["mirror.paths"]
    if getattr(args, "checkpoints", False):
        return checkpoints_command(paths)
    problem = None
    try:
        records = ledger.Ledger(paths, write=False)
        print(f"last accepted sequence: {records.highest}")
    except ledger.StateError as error:
        problem = error
        print(f"STATE PROBLEM: {error}")
    active = ActiveSnapshot(paths.active, settings["mirror.trust"], ledger=paths.last_sequence)
    active.current()
    snapshot = active.loaded
    if active.verdict == ledger.MISMATCH:
        problem = problem or ledger.StateError(paths.active, active.disagreement)
        print(f"ACTIVE SNAPSHOT MISMATCH: {active.disagreement}")
    elif active.verdict == ledger.ACTIVATING:
        print(f"activating: {active.disagreement}")
    if snapshot is None:
        print("active snapshot: none")
    else:
        created = snapshot.header["created_at"]
        age = datetime.now(UTC) - datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        print(f"active snapshot: sequence {snapshot.sequence}, created {created} "
              f"({int(age.total_seconds() // 60)} min ago), expires {snapshot.header['expires_at']}"
              f"{' — EXPIRED' if is_expired(snapshot) else ''}, {snapshot.table.count} entries")
        # Which trusted keys signed it, and the lookup key its hashes need (a key rotation
        # is checked here: docs/runbook).
        print(f"  signed by {', '.join(sorted(snapshot.signed_by))}; lookup key "
              f"{snapshot.header.get('lookup_key_id')}")
        codes = [s["code"] for s in snapshot.header["statuses"]]
        for index, count in sorted(snapshot.table.status_counts().items()):
            print(f"  {codes[index]:24} {count:>10,}")
    flag = settings.get("mirror.maintenance_file")
    if settings["mirror.maintenance"] or (flag and flag.exists()):
        print(f"maintenance: ON — residents see the maintenance page"
              f"{f' while {flag} exists' if flag and flag.exists() else ''}")
    receiver = ReceiverWatch(paths.inbox, paths.activation_log).report()
    refusal = receiver["last_refusal"]
    if refusal:   # already escaped and bounded
        print(f"last rejection: {refusal['at']} {refusal['file']}: {refusal['reason']}")
    if receiver["state"] != "ok":
        print(f"RECEIVER {receiver['state'].upper()}: {receiver['problem']}")
    witnessed = activation_log.last_audit_checkpoint(paths.activation_log)
    if witnessed:
        # Compared by the intranet's security officer with the audit screen (runbook).
        print(f"audit checkpoint: {shown(str(witnessed.get('count')))} records, head "
              f"{shown(str(witnessed.get('head_hash')))}, signed "
              f"{shown(str(witnessed.get('at')))} by {shown(str(witnessed.get('key_id')))}")
    intact, count, reason = activation_log.verify_log(paths.activation_log)
    if problem is not None and problem.path == paths.activation_log:
        # A chain can verify and still not be the log the receiver left (cut, re-chained).
        intact, reason = False, str(problem).split(". Nothing was received")[0]
    print(f"activation log: {count} records, {'intact' if intact else 'BROKEN: ' + reason}")
    for day, counts in list(usage.totals(paths.usage).items())[-7:]:
        print(f"usage {day}: {counts.get('lookups', 0)} lookups, {counts.get('found', 0)} found")
    return 0 if intact and problem is None else 1


def checkpoints_command(paths) -> int:
    """The audit checkpoints the activation log kept, one JSON line each in the intranet's
    checkpoint file format: saved to a file, `shinsei-intranet audit verify
    --mirror-checkpoints FILE` checks the intranet's chain and file against them."""
    try:
        found = activation_log.audit_checkpoints(paths.activation_log)
    except activation_log.DamagedLog as damaged:
        print(f"shinsei-mirror: 活動記録を読めません: {damaged}", file=sys.stderr)
        return 1
    if not found:
        print(f"shinsei-mirror: {paths.activation_log} に監査チェックポイントがありません"
              "（まだ公開を受け取っていません）", file=sys.stderr)
        return 1
    for checkpoint in found:
        print(json.dumps(checkpoint, sort_keys=True, ensure_ascii=False))
    return 0


def serve_command(settings, args):
    """The residents' page on several processes sharing one port (see public_mirror.serve)."""
    from public_mirror import main as make_mirror
    from public_mirror.serve import serve, server_options

    raw = get_appsettings(args.config)
    listen, options = server_options(args.config)
    if args.host or args.port:   # one address, from the command line where it says one
        listen = [(args.host or listen[0][0], args.port or listen[0][1])]
    serve(lambda: make_mirror({}, **raw), listen, args.processes, args.threads, **options)


def _parser():
    parser = argparse.ArgumentParser(prog="shinsei-mirror", description=__doc__)
    parser.add_argument("-c", "--config", default=_default_config(),
                        help=f"the mirror's ini (default: $SHINSEI_MIRROR_CONFIG, else "
                             f"{INSTALLED_CONFIG} if it exists, else mirror-development.ini)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version.current()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    take = commands.add_parser("receive", help="verify and activate files waiting in the inbox")
    take.add_argument("--watch", action="store_true", help="keep watching the inbox")
    take.add_argument("--interval", type=float, default=2.0)
    take.add_argument("--wait", type=float, default=30.0,
                      help="seconds to wait for another receiver to finish")
    take.set_defaults(command=receive_command)
    status = commands.add_parser("status", help="active snapshot, last rejection, activation "
                                 "log, usage")
    status.add_argument("--checkpoints", action="store_true",
                        help="print only the intranet's signed audit checkpoints this host "
                        "accepted, one JSON line each (for `shinsei-intranet audit verify "
                        "--mirror-checkpoints`)")
    status.set_defaults(command=status_command)
    mend = commands.add_parser(
        "recover", help="after a state problem was looked into: re-establish the receiver's "
                        "records from what can be read (logged in the activation log)")
    mend.add_argument("--sequence", type=int,
                      help="the last accepted sequence to keep (default: the highest any "
                           "readable record shows)")
    mend.add_argument("--wait", type=float, default=30.0)
    mend.set_defaults(command=recover_command)
    web = commands.add_parser("serve", help="serve the residents' page (processes share the port)")
    web.add_argument("--host", help="default: [server:main] listen")
    web.add_argument("--port", type=int, help="default: [server:main] listen")
    web.add_argument("--processes", type=int,
                     help="default: one per core this host lets the server use")
    web.add_argument("--threads", type=int, default=2)
    web.set_defaults(command=serve_command)
    return parser
