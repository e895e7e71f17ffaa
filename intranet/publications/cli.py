"""``shinsei-transfer`` on the intranet host: transfer's own commands (keygen, verify,
inspect, and the steps without a database), ``build`` (a snapshot by hand), and the
publication's steps:

    build-spool        the builder: approved content → unsigned table (database, no key)
                       (intranet.publications.steps, .builder)
    sign-spool         the signer: table → signed snapshot (key, no database)
                       (transfer.steps, transfer.signer)
    push-outbox        the pusher: signed snapshot → public hosts (no database, no key)
                       (transfer.steps, transfer.push)
    record-deliveries  the recorder: the pusher's report → publication and audit (database)
                       (intranet.publications.steps, .recorder)
    publish            all of them in order, in one process (a single demo machine)

Each step's imports are inside its command: the signer and the pusher never load the
database layer, and ``verify`` and ``inspect`` work where SQLAlchemy and paramiko are not
installed.
"""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from intranet.publications import steps
from transfer import cli as transfer_cli
from transfer.snapshot import VALID_HOURS
from transfer.steps import report


def main(argv: list[str] | None = None) -> int:
    parser, commands = transfer_cli.make_parser()
    _add_build(commands)
    _add_publish(commands)
    steps.add_commands(commands)
    return transfer_cli.run(parser.parse_args(argv))


def build(args: argparse.Namespace) -> int:
    import transaction

    from intranet import ini
    from intranet.db import get_tm_session, open_database
    from intranet.publications.build import build_snapshot
    from transfer import config
    from transfer.files import write_atomically
    from transfer.keys import load_lookup_key, load_signing_key

    ini.setup_logging(args.config)
    signing_keys = [load_signing_key(path) for path in args.signing_key]
    now = datetime.now(UTC).replace(microsecond=0)
    sequence = args.sequence or int(now.timestamp())
    with open_database(args.config) as (session_factory, settings), transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        # The command line wins over the ini, read as the ini's transfer.* are.
        given = {**settings, **{name: value for name, value in (
            ("transfer.origin", args.origin), ("transfer.valid_hours", args.valid_hours))
            if value is not None}}
        try:
            origin, valid_for = config.origin(given), config.valid_for(given)
        except config.TransferConfigError as error:
            print(f"設定: {error}", file=sys.stderr)
            return 2
        result = build_snapshot(dbsession, signing_keys=signing_keys,
                                lookup_secret=load_lookup_key(args.lookup_key), origin=origin,
                                sequence=sequence, now=now, valid_for=valid_for)
    write_atomically(args.out, result.data)
    header = result.header
    print(f"wrote {args.out}: sequence {header['sequence']}, {header['entry_count']} entries, "
          f"{len(result.data)} bytes, sha256 {header['body_sha256'][:16]}…, "
          f"expires {header['expires_at']}")
    if result.skipped:
        print(f"note: {result.skipped} applications left out (their programme needs a birth "
              "date and none is recorded)")
    return 0


def publish(args: argparse.Namespace) -> int:
    """The approved publication, every step in one process: build, sign, push, record."""
    from intranet import ini
    from intranet.db import open_database
    from intranet.publications.job import plan_from_settings
    from intranet.publications.job import publish as publish_approved
    from transfer.config import TransferConfigError

    ini.setup_logging(args.config)
    with open_database(args.config) as (session_factory, settings):
        try:
            plan = plan_from_settings(settings)
        except TransferConfigError as error:
            print(f"configuration: {error}", file=sys.stderr)
            return 2
        ids, deliveries = publish_approved(session_factory, plan, scheduled=args.scheduled)
    if not ids:
        print("nothing to publish: no approved request")
        return 0
    return report(deliveries)


def _add_build(commands: Any) -> None:
    make = commands.add_parser("build", help="build and sign a snapshot from the database")
    make.add_argument("-c", "--config", default="development.ini", help="intranet ini file")
    make.add_argument("--signing-key", type=Path, action="append", required=True,
                      help="private signing key (repeat to sign with several)")
    make.add_argument("--lookup-key", type=Path, required=True)
    make.add_argument("--origin", help="MUNICIPALITY:ENVIRONMENT, e.g. 142158:prod "
                      "(default: transfer.origin in the ini)")
    make.add_argument("--sequence", type=int, help="default: the current Unix time")
    make.add_argument("--valid-hours", help="default: transfer.valid_hours in the ini, else "
                      f"{VALID_HOURS}")
    make.add_argument("--out", type=Path, required=True)
    make.set_defaults(command=build)


def _add_publish(commands: Any) -> None:
    push = commands.add_parser("publish", help="build, sign, push and record the approved "
                               "publication in one process (a single demo machine)")
    push.add_argument("-c", "--config", default="development.ini", help="intranet ini file")
    push.add_argument("--scheduled", action="store_true",
                      help="the timer's run (it too publishes approved requests only)")
    push.set_defaults(command=publish)
