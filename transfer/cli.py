"""``shinsei-transfer``: the commands that need no database — snapshot keys, verify, inspect,
and the publication's signer and pusher (``transfer.steps``).

The console script is ``intranet.publications.cli``, which adds ``build``, ``publish`` and the
builder's and recorder's steps (they read the intranet database) to the parser made here;
this package never imports the intranet.
"""

import argparse
import pwd
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transfer import collector, errors, steps, version
from transfer.keys import generate_lookup_key, generate_signing_key, load_lookup_key, load_public_key
from transfer.keys import key_id as public_key_id
from transfer.lookup import lookup_key_id
from transfer.snapshot import entry_layout, parse
from transfer.table import SnapshotTable
from transfer.verify import DEFAULT_MAX_SIZE, Origin, TrustPolicy, check_size, verify_snapshot


def main(argv: list[str] | None = None) -> int:
    collector.for_bulk_work()
    parser, _commands = make_parser()
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run the chosen command; a refused snapshot or key file is exit 1 with its reason."""
    try:
        return int(args.command(args) or 0)
    except (errors.SnapshotError, errors.KeyFileError) as refused:
        print(f"refused: {type(refused).__name__}: {refused}", file=sys.stderr)
        return 1


def keygen(args: argparse.Namespace) -> int:
    """New keys, never over an existing file. ``--owner``: the private files belong to that
    account (and its group), mode 0600, from their first byte — a key made by root for the
    step that uses it (the signer, the builder, the public host's receiver)."""
    if not (args.signing_key or args.lookup_key):
        print("nothing to do: give --signing-key PATH and/or --lookup-key PATH", file=sys.stderr)
        return 2
    owner = None
    if args.owner:
        try:
            account = pwd.getpwnam(args.owner)
        except KeyError:
            print(f"--owner {args.owner}: no such account", file=sys.stderr)
            return 2
        owner = (account.pw_uid, account.pw_gid)
    if args.signing_key:
        key = generate_signing_key(args.signing_key, _public_path(args.signing_key), owner)
        print(f"signing key {args.signing_key} (public: {_public_path(args.signing_key)}), "
              f"key id {key.key_id}")
    if args.lookup_key:
        secret = generate_lookup_key(args.lookup_key, owner)
        print(f"lookup key {args.lookup_key}, key id {lookup_key_id(secret)}")
    return 0


def key_id(args: argparse.Namespace) -> int:
    """The id a key is known by in snapshot headers (a public half, or a lookup key)."""
    for path in args.files:
        if path.name.endswith(".pub"):
            print(f"{path}: {public_key_id(load_public_key(path))}")
        else:
            print(f"{path}: {lookup_key_id(load_lookup_key(path))}")
    return 0


def _origin(text: str) -> Origin:
    try:
        return Origin.checked(text)
    except ValueError as wrong:
        raise argparse.ArgumentTypeError(str(wrong)) from None


def verify(args: argparse.Namespace) -> int:
    policy = TrustPolicy(keys=[load_public_key(p) for p in args.trusted_keys],
                         origin=args.origin, threshold=args.threshold,
                         max_size=args.max_size)
    check_size(args.file.stat().st_size, policy)
    snapshot = verify_snapshot(args.file.read_bytes(), policy, last_sequence=args.last_sequence,
                               now=datetime.now(UTC))
    print(f"OK: sequence {snapshot.sequence}, {snapshot.table.count} entries, signed by "
          f"{', '.join(sorted(snapshot.signed_by))}")
    return 0


def inspect(args: argparse.Namespace) -> int:
    """Header and counts per status; never a lookup hash, never an entry."""
    parsed = parse(args.file.read_bytes())
    header = parsed.header
    for name in ("format", "payload_type", "origin", "sequence", "created_at", "expires_at",
                 "lookup_key_id", "entry_count", "body_length", "body_sha256"):
        print(f"{name:14} {header.get(name)}")
    print("signatures     " + ", ".join(str(s.get("keyid")) for s in parsed.signatures))
    print("programmes     " + ", ".join(p.get("code", "?") for p in header.get("programmes", [])))
    statuses = header.get("statuses", [])
    try:
        layout = entry_layout(header.get("format"))
    except errors.MalformedSnapshot as unknown:
        print(f"entries        not counted: {unknown}")
        return 1
    counts = SnapshotTable(bytes(parsed.body), len(parsed.body) // layout.size,
                           layout).status_counts()
    print("entries per status (unverified file):")
    for index, status in enumerate(statuses):
        print(f"  {status.get('code', '?'):24} {counts.get(index, 0):>10,}")
    return 0


def _public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def make_parser() -> tuple[argparse.ArgumentParser, Any]:
    """The parser and its sub-command collection (the intranet adds build and publish)."""
    parser = argparse.ArgumentParser(prog="shinsei-transfer",
                                     description="snapshot keys, build, verify, inspect, publish")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version.current()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    gen = commands.add_parser("keygen", help="make a signing key pair and/or a lookup key")
    gen.add_argument("--signing-key", type=Path, help="private key path (public: PATH.pub)")
    gen.add_argument("--lookup-key", type=Path, help="lookup HMAC key path")
    gen.add_argument("--owner", help="the account the private files belong to (run as root)")
    gen.set_defaults(command=keygen)

    ids = commands.add_parser("key-id", help="the id of a public key (.pub) or a lookup key")
    ids.add_argument("files", type=Path, nargs="+")
    ids.set_defaults(command=key_id)

    check = commands.add_parser("verify", help="verify a snapshot; exit 0, or 1 with the reason")
    check.add_argument("file", type=Path)
    check.add_argument("--trusted-keys", type=Path, nargs="+", required=True)
    check.add_argument("--threshold", type=int, default=1)
    check.add_argument("--last-sequence", type=int)
    check.add_argument("--origin", required=True, type=_origin,
                       help="MUNICIPALITY:ENVIRONMENT, e.g. 142158:prod")
    check.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE)
    check.set_defaults(command=verify)

    show = commands.add_parser("inspect", help="show a snapshot's header and counts per status")
    show.add_argument("file", type=Path)
    show.set_defaults(command=inspect)
    steps.add_commands(commands)
    return parser, commands
