"""``shinsei-mirror``: take snapshots from the inbox, and report the mirror's state."""

import argparse
import sys
from datetime import UTC, datetime

from pyramid.paster import get_appsettings

from public_mirror import activation_log, receive, usage
from public_mirror import settings as settings_loader
from public_mirror.store import ActiveSnapshot, is_expired, read_last_sequence
from transfer import config_file


def main(argv=None):
    args = _parser().parse_args(argv)
    args.config = config_file.resolve(args.config, "mirror")
    settings = settings_loader.load(get_appsettings(args.config))
    return args.command(settings, args) or 0


def receive_command(settings, args):
    paths, policy = settings["mirror.paths"], settings["mirror.policy"]
    if args.watch:  # pragma: no cover - a loop for a systemd service
        receive.watch(paths, policy, args.interval)
    outcomes = receive.receive_once(paths, policy)
    for outcome in outcomes:
        if outcome.accepted:
            print(f"accepted {outcome.file}: sequence {outcome.sequence}")
        else:
            print(f"rejected {outcome.file}: {outcome.reason}", file=sys.stderr)
    return 1 if any(not o.accepted for o in outcomes) else 0


def status_command(settings, args):
    paths = settings["mirror.paths"]
    snapshot = ActiveSnapshot(paths.active, settings["mirror.policy"]).current()
    print(f"last accepted sequence: {read_last_sequence(paths.last_sequence)}")
    if snapshot is None:
        print("active snapshot: none")
    else:
        created = datetime.strptime(snapshot.header["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        age = datetime.now(UTC).replace(tzinfo=None) - created
        print(f"active snapshot: sequence {snapshot.sequence}, created "
              f"{snapshot.header['created_at']} ({int(age.total_seconds() // 60)} min ago), "
              f"expires {snapshot.header['expires_at']}"
              f"{' — EXPIRED' if is_expired(snapshot) else ''}, {snapshot.table.count} entries")
        codes = [s["code"] for s in snapshot.header["statuses"]]
        for index, count in sorted(snapshot.table.status_counts().items()):
            print(f"  {codes[index]:24} {count:>10,}")
    rejected = [r for r in activation_log.records(paths.activation_log)
                if r["outcome"] == "rejected"]
    if rejected:
        print(f"last rejection: {rejected[-1]['at']} {rejected[-1]['file']}: "
              f"{rejected[-1]['reason']}")
    intact, count, reason = activation_log.verify_log(paths.activation_log)
    print(f"activation log: {count} records, {'intact' if intact else 'BROKEN: ' + reason}")
    for day, counts in list(usage.totals(paths.usage).items())[-7:]:
        print(f"usage {day}: {counts.get('lookups', 0)} lookups, {counts.get('found', 0)} found")
    return 0 if intact else 1


def serve_command(settings, args):
    """The residents' page on several processes sharing one port (see public_mirror.serve)."""
    from public_mirror import main as make_mirror
    from public_mirror.serve import serve, server_options

    raw = get_appsettings(args.config)
    host, port, options = server_options(args.config)
    serve(lambda: make_mirror({}, **raw), args.host or host, args.port or port, args.processes,
          args.threads, **options)


def _parser():
    parser = argparse.ArgumentParser(prog="shinsei-mirror", description=__doc__)
    parser.add_argument("-c", "--config",
                        help="ini file (default: $SHINSEI_MIRROR_CONFIG, the installed "
                        "/etc/shinsei/mirror.ini, or mirror-development.ini here)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    take = commands.add_parser("receive", help="verify and activate files waiting in the inbox")
    take.add_argument("--watch", action="store_true", help="keep watching the inbox")
    take.add_argument("--interval", type=float, default=2.0)
    take.set_defaults(command=receive_command)
    commands.add_parser("status", help="active snapshot, last rejection, activation log, usage") \
        .set_defaults(command=status_command)
    web = commands.add_parser("serve", help="serve the residents' page (processes share the port)")
    web.add_argument("--host", help="default: [server:main] listen")
    web.add_argument("--port", type=int, help="default: [server:main] listen")
    web.add_argument("--processes", type=int, default=2)
    web.add_argument("--threads", type=int, default=2)
    web.set_defaults(command=serve_command)
    return parser
