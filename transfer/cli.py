"""``shinsei-transfer``: snapshot keys, build, verify and inspect (intranet host)."""

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from transfer import errors
from transfer.keys import (
    generate_lookup_key,
    generate_signing_key,
    load_lookup_key,
    load_public_key,
    load_signing_key,
)
from transfer.snapshot import ENTRY_SIZE, parse
from transfer.table import SnapshotTable
from transfer.transports import write_atomically
from transfer.verify import DEFAULT_MAX_SIZE, Origin, TrustPolicy, check_size, verify_snapshot


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return args.command(args) or 0
    except (errors.SnapshotError, errors.KeyFileError) as refused:
        print(f"refused: {type(refused).__name__}: {refused}", file=sys.stderr)
        return 1


def keygen(args):
    if args.signing_key:
        key = generate_signing_key(args.signing_key, _public_path(args.signing_key))
        print(f"signing key {args.signing_key} (public: {_public_path(args.signing_key)}), "
              f"key id {key.key_id}")
    if args.lookup_key:
        generate_lookup_key(args.lookup_key)
        print(f"lookup key {args.lookup_key}")
    if not (args.signing_key or args.lookup_key):
        print("nothing to do: give --signing-key PATH and/or --lookup-key PATH", file=sys.stderr)
        return 2
    return 0


def build(args):
    # Imported here: verifying and inspecting must work where SQLAlchemy is not installed.
    from transfer.build import build_snapshot
    from transfer.database import open_session

    signing_keys = [load_signing_key(path) for path in args.signing_key]
    now = datetime.now(UTC).replace(microsecond=0)
    sequence = args.sequence or int(now.timestamp())
    with open_session(args.config) as (dbsession, settings):
        origin = Origin(args.municipality or settings.get("shinsei.municipality_code", ""),
                        args.environment or settings.get("shinsei.environment", "prod"))
        result = build_snapshot(dbsession, signing_keys=signing_keys,
                                lookup_secret=load_lookup_key(args.lookup_key), origin=origin,
                                sequence=sequence, now=now,
                                valid_for=timedelta(hours=args.valid_hours))
    write_atomically(args.out, result.data)
    header = result.header
    print(f"wrote {args.out}: sequence {header['sequence']}, {header['entry_count']} entries, "
          f"{len(result.data)} bytes, sha256 {header['body_sha256'][:16]}…, "
          f"expires {header['expires_at']}")
    if result.skipped:
        print(f"note: {result.skipped} applications left out (their programme needs a birth "
              "date and none is recorded)")


def publish_command(args):
    """Approved publications (and, with --scheduled, a scheduled run): build, sign, push."""
    from transfer.config import TransferConfigError, plan_from_settings
    from transfer.database import open_database
    from transfer.publish import publish

    with open_database(args.config) as (session_factory, settings):
        try:
            plan = plan_from_settings(settings)
        except TransferConfigError as error:
            print(f"configuration: {error}", file=sys.stderr)
            return 2
        ids, deliveries = publish(session_factory, plan, scheduled=args.scheduled)
    if not ids:
        print("nothing to publish: no approved request")
        return 0
    for delivery in deliveries:
        outcome = "delivered" if delivery.delivered else f"FAILED: {delivery.reason}"
        print(f"{delivery.destination}: {outcome}")
    return 0 if all(d.delivered for d in deliveries) else 1


def verify(args):
    policy = TrustPolicy(keys=[load_public_key(p) for p in args.trusted_keys],
                         origin=Origin.parse(args.origin), threshold=args.threshold,
                         max_size=args.max_size)
    check_size(args.file.stat().st_size, policy)
    snapshot = verify_snapshot(args.file.read_bytes(), policy, last_sequence=args.last_sequence,
                               now=datetime.now(UTC))
    print(f"OK: sequence {snapshot.sequence}, {snapshot.table.count} entries, signed by "
          f"{', '.join(sorted(snapshot.signed_by))}")


def inspect(args):
    """Header and counts per status; never a lookup hash, never an entry."""
    parsed = parse(args.file.read_bytes())
    header = parsed.header
    for name in ("payload_type", "origin", "sequence", "created_at", "expires_at",
                 "lookup_key_id", "entry_count", "body_length", "body_sha256"):
        print(f"{name:14} {header.get(name)}")
    print("signatures     " + ", ".join(str(s.get("keyid")) for s in parsed.signatures))
    print("programmes     " + ", ".join(p.get("code", "?") for p in header.get("programmes", [])))
    statuses = header.get("statuses", [])
    counts = SnapshotTable(bytes(parsed.body), len(parsed.body) // ENTRY_SIZE).status_counts()
    print("entries per status (unverified file):")
    for index, status in enumerate(statuses):
        print(f"  {status.get('code', '?'):24} {counts.get(index, 0):>10,}")


def _public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def _parser():
    parser = argparse.ArgumentParser(prog="shinsei-transfer", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    gen = commands.add_parser("keygen", help="make a signing key pair and/or a lookup key")
    gen.add_argument("--signing-key", type=Path, help="private key path (public: PATH.pub)")
    gen.add_argument("--lookup-key", type=Path, help="lookup HMAC key path")
    gen.set_defaults(command=keygen)

    make = commands.add_parser("build", help="build and sign a snapshot from the database")
    make.add_argument("-c", "--config", default="development.ini", help="intranet ini file")
    make.add_argument("--signing-key", type=Path, action="append", required=True,
                      help="private signing key (repeat to sign with several)")
    make.add_argument("--lookup-key", type=Path, required=True)
    make.add_argument("--municipality", help="municipality code (default: from the ini)")
    make.add_argument("--environment", choices=("prod", "test"))
    make.add_argument("--sequence", type=int, help="default: the current Unix time")
    make.add_argument("--valid-hours", type=int, default=72)
    make.add_argument("--out", type=Path, required=True)
    make.set_defaults(command=build)

    push = commands.add_parser("publish", help="build, sign and push approved publications")
    push.add_argument("-c", "--config", default="development.ini", help="intranet ini file")
    push.add_argument("--scheduled", action="store_true",
                      help="publish even without a request (the schedule's timer run)")
    push.set_defaults(command=publish_command)

    check = commands.add_parser("verify", help="verify a snapshot; exit 0, or 1 with the reason")
    check.add_argument("file", type=Path)
    check.add_argument("--trusted-keys", type=Path, nargs="+", required=True)
    check.add_argument("--threshold", type=int, default=1)
    check.add_argument("--last-sequence", type=int)
    check.add_argument("--origin", required=True, help="MUNICIPALITY:ENVIRONMENT, e.g. 142158:prod")
    check.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE)
    check.set_defaults(command=verify)

    show = commands.add_parser("inspect", help="show a snapshot's header and counts per status")
    show.add_argument("file", type=Path)
    show.set_defaults(command=inspect)
    return parser
