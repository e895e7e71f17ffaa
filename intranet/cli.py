"""``shinsei-intranet``: database, accounts, audit and demo data on the intranet host."""

import argparse
import getpass
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from string import Template

import transaction
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from intranet import migrations
from intranet import settings as settings_loader
from intranet.audit import checkpoints, writer
from intranet.audit import services as audit_services
from intranet.auth.models import ROLES
from intranet.backups import cli as backups
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.users import services as users
from transfer import config_file, version


def main(argv=None):
    args = _parser().parse_args(argv)
    args.config = config_file.resolve(args.config, "intranet")
    setup_logging(args.config)
    settings = settings_loader.load(get_appsettings(args.config), web=False)
    engine = get_engine(settings)
    context = CommandContext(engine, get_session_factory(engine),
                             writer.Actor(name=f"cli:{getpass.getuser()}", role="cli"), settings)
    try:
        return args.command(context, args) or 0
    except users.AccountError as refused:
        print(f"error: {refused.field}: {refused}", file=sys.stderr)
        return 2
    except checkpoints.CheckpointError as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    except OperationalError as refused:
        print(_unreachable(engine, refused), file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _unreachable(engine, error) -> str:
    """The database refused the connection: one sentence, and for root on an installed host
    (peer authentication: the OS user is the role, and root has none) whom to run as."""
    said = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    message = f"error: データベースに接続できません（{said}）"
    if os.geteuid() == 0 and engine.url.get_backend_name() == "postgresql" \
            and not engine.url.username:
        message += ("\nroot にはデータベースのロールがありません（peer 認証では OS ユーザー名が"
                    "ロール名です）。職員用アプリのユーザーで実行してください: "
                    f"runuser -u shinsei-web -- shinsei-intranet {' '.join(sys.argv[1:])}")
    return message


class CommandContext:
    def __init__(self, engine, session_factory, actor, settings):
        self.engine, self.session_factory, self.actor = engine, session_factory, actor
        self.settings = settings

    @contextmanager
    def dbsession(self):
        """A session in its own transaction: committed on success, aborted on error."""
        with transaction.manager:
            yield get_tm_session(self.session_factory, transaction.manager)


def initdb(ctx, args):
    """Create or upgrade the schema (Alembic ``upgrade head``), then the default catalogue."""
    migrations.initialise(ctx.engine, ctx.session_factory, ctx.actor)
    print("database is at the latest schema")


def user_add(ctx, args):
    password = _read_password(args)
    with ctx.dbsession() as dbsession:
        users.add_user(dbsession, ctx.actor, args.username, args.name or args.username,
                       args.role, password)
    print(f"user {args.username} added with role {args.role}")


def user_passwd(ctx, args):
    password = _read_password(args)
    with ctx.dbsession() as dbsession:
        users.set_password(dbsession, ctx.actor, _existing(dbsession, args.username), password)
    print(f"password of {args.username} changed; their sessions have ended")


def user_disable(ctx, args):
    with ctx.dbsession() as dbsession:
        account = _existing(dbsession, args.username)
        users.update_user(dbsession, ctx.actor, account, account.display_name, account.role, False)
    print(f"user {args.username} disabled")


def _signed_checkpoints(ctx, args):
    """Verified checkpoints from --checkpoints/--trusted-key or the settings (None: none)."""
    settings = dict(ctx.settings)
    if getattr(args, "checkpoints", None):
        settings["audit.checkpoint_file"] = str(args.checkpoints)
    if getattr(args, "trusted_key", None):
        settings["audit.checkpoint_keys"] = " ".join(str(k) for k in args.trusted_key)
    return checkpoints.from_settings(settings)


def audit_verify(ctx, args):
    signed = _signed_checkpoints(ctx, args)
    with ctx.dbsession() as dbsession:
        verdict = audit_services.verify(dbsession, signed, workers=args.workers)
    if verdict.ok:
        print(f"audit chain OK: {verdict.count} records, head {verdict.head_hash}")
        if signed is None:
            print("warning: no signed checkpoints configured (audit.checkpoint_file); "
                  "a recomputed or cut-back chain would pass this check", file=sys.stderr)
        elif not signed:
            print("agrees with 0 signed checkpoints")
            print(f"warning: {ctx.settings['audit.checkpoint_file']} holds no signed checkpoint; "
                  "a recomputed or cut-back chain would pass this check (after a restore: "
                  "`shinsei-intranet backup restore` puts the set's checkpoint file back)",
                  file=sys.stderr)
        else:
            last = (f", the last of {signed[-1].count} records at "
                    f"{signed[-1].at:%Y-%m-%d %H:%M} UTC") if signed else ""
            print(f"agrees with {verdict.checkpoints} signed checkpoints{last}")
        return 0
    print(f"audit chain BROKEN at record {verdict.broken_seq}: {verdict.reason} "
          f"({verdict.count} records before it are intact)", file=sys.stderr)
    return 1


def _worker_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number from 1 to 64")
    return int(text)


def audit_checkpoint(ctx, args):
    """Sign the audit head with the transfer key (run as the transfer job's OS user)."""
    from transfer.keys import load_signing_key

    path = args.checkpoints or ctx.settings.get("audit.checkpoint_file")
    key_path = args.signing_key or (ctx.settings.get("transfer.signing_keys", "").split() or [""])[0]
    if not path or not key_path:
        print("error: audit.checkpoint_file and a signing key (--signing-key or "
              "transfer.signing_keys) are needed", file=sys.stderr)
        return 2
    signing_key = load_signing_key(Path(key_path))
    with ctx.dbsession() as dbsession:
        checkpoint = audit_services.take_checkpoint(dbsession, ctx.actor, signing_key,
                                                    Path(path))
    print(f"checkpoint signed: {checkpoint.count} records, head {checkpoint.head_hash}, "
          f"key {checkpoint.key_id}")
    return 0


def audit_prune(ctx, args):
    """Archive and remove audit records older than the retention (audit.retention_days),
    cutting at the last signed checkpoint among them."""
    from intranet.audit.retention import prune

    signed = _signed_checkpoints(ctx, args)
    if signed is None:
        print("error: pruning cuts at a signed checkpoint: set audit.checkpoint_file and "
              "audit.checkpoint_keys (or --checkpoints and --trusted-key)", file=sys.stderr)
        return 2
    with ctx.dbsession() as dbsession:
        count = prune(dbsession, ctx.actor, args.days or ctx.settings["audit.retention_days"],
                      args.archive, signed)
    print(f"archived {count} records to {args.archive}" if count
          else "nothing to archive (no signed checkpoint among the expired records)")


def disposal_reapply(ctx, args):
    """Erase a programme again from its disposal record (after restoring an older backup)."""
    from intranet.disposal import erase, reapply
    from intranet.disposal.services import DisposalRefused
    from intranet.imports.spool import Spool

    try:
        with ctx.dbsession() as dbsession:
            disposal = reapply.reapply(dbsession, ctx.actor, args.record.read_bytes(),
                                       Spool.from_settings(ctx.settings).directory)
            applications, code = disposal.applications, disposal.programme.code
    except (DisposalRefused, OSError) as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    erase.compact(ctx.engine)
    print(f"disposal re-applied to {code}: {applications} applications erased")


def demo(ctx, args):
    from intranet import demo as demo_data

    with ctx.dbsession() as dbsession:
        credentials = demo_data.seed(dbsession, ctx.actor, args.applications, args.seed)
    print("demo users (username / password / role):")
    for username, password, role in credentials:
        print(f"  {username:12} {password:24} {role}")


def import_file(ctx, args):
    """Import a CSV (dry run first with --dry-run); all rows or none."""
    from intranet.imports.errors import ImportRefused
    from intranet.imports.plan import plan_import
    from intranet.programmes.models import Programme
    from intranet.statuses.services import load_catalogue

    try:
        data = args.file.read_bytes()
        mapping = _read_mapping(args.mapping) if args.mapping else None
    except (OSError, ImportRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def progress(count):
        print(f"\r  {count:,} rows read", end="", file=sys.stderr, flush=True)

    try:
        with ctx.dbsession() as dbsession:
            programme = dbsession.execute(select(Programme).where(
                Programme.code == args.programme)).scalar_one_or_none()
            if programme is None:
                print(f"error: no programme {args.programme}", file=sys.stderr)
                return 2
            catalogue = load_catalogue(dbsession)
            if args.dry_run:
                plan = plan_import(dbsession, catalogue, programme, data, args.file.name,
                                   mapping, progress)
            else:
                # One pass that plans and writes; any error aborts the transaction.
                plan = _try_apply(dbsession, ctx.actor, programme, catalogue, data,
                                  args.file.name, mapping, progress)
            print(file=sys.stderr)
            _print_plan(plan)
            if plan.error_count:
                transaction.abort()
                return 1
            if not args.dry_run:
                print("imported")
    except ImportRefused as refused:
        print(f"{args.file}: {refused}",
              file=sys.stderr)
        return 1
    return 0


def _read_mapping(path):
    """The --mapping file's layout; a file that cannot be read is one plain sentence."""
    from intranet.imports.columns import load_mapping
    from intranet.imports.errors import ImportRefused

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("対応表ファイル ${path} は UTF-8 で保存してください。",
                            path=str(path)) from None
    except OSError as error:
        raise ImportRefused("対応表ファイル ${path} を読めません（${why}）。", path=str(path),
                            why=error.strerror or "") from None
    return load_mapping(text)


def _try_apply(dbsession, actor, programme, catalogue, data, filename, mapping, progress):
    """The import, or — when the file has errors — the plan that lists them."""
    from intranet.imports.apply import apply_import
    from intranet.imports.errors import ImportRefused
    from intranet.imports.plan import plan_import

    try:
        return apply_import(dbsession, actor, None, programme, catalogue, data, filename,
                            mapping, progress)
    except ImportRefused:
        transaction.abort()
        transaction.begin()
        return plan_import(dbsession, catalogue, programme, data, filename, mapping, progress)


_ERRORS_SHOWN = 500   # as many as the import screen shows


def _print_plan(plan):
    from intranet.imports.columns import label

    print(f"{plan.filename}: {plan.encoding}, {plan.kind}; new {plan.count('new')}, "
          f"changed {plan.count('changed')}, unchanged {plan.count('unchanged')}, "
          f"errors {plan.error_count}")
    for title, field in plan.columns.pairs:
        print(f"  column {title} -> {label(field) or '(not imported)'}")
    shown = plan.errors[:_ERRORS_SHOWN]
    if plan.error_count:
        print(f"errors: {plan.error_count:,} (first {len(shown):,} shown)")
    for error in shown:
        reason = Template(error.message).safe_substitute(error.mapping)
        print(f"  line {error.line}, {error.column or 'row'}: {error.value!r}: {reason}")


def _read_password(args):
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise users.AccountError("password", "passwords do not match")
    return first


def _existing(dbsession, username):
    account = users.find_user(dbsession, username)
    if account is None:
        raise users.AccountError("username", f"no user {username}")
    return account


def _parser():
    parser = argparse.ArgumentParser(prog="shinsei-intranet", description=__doc__)
    parser.add_argument("-c", "--config",
                        help="ini file (default: $SHINSEI_INTRANET_CONFIG, the installed "
                        "/etc/shinsei/intranet.ini, or development.ini here)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version.current()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    commands.add_parser("initdb", help="create or upgrade the database").set_defaults(command=initdb)

    user = commands.add_parser("user", help="staff accounts").add_subparsers(required=True)
    add = user.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--name", help="display name")
    add.set_defaults(command=user_add)
    passwd = user.add_parser("passwd", help="set an account's password")
    passwd.add_argument("username")
    passwd.set_defaults(command=user_passwd)
    for sub in (add, passwd):
        sub.add_argument("--password-stdin", action="store_true",
                         help="read the password from standard input (for scripts)")
    disable = user.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    disable.set_defaults(command=user_disable)

    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(required=True)
    verify_cmd = audit.add_parser("verify", help="check the hash chain against the signed "
                                  "checkpoints; exit 1 naming the first broken record")
    # Hashing is per record in Python: a long chain is split across processes, one per core.
    verify_cmd.add_argument("--workers", type=_worker_count, default=os.cpu_count() or 1,
                            help="processes checking ranges of the chain (default: one per core)")
    verify_cmd.set_defaults(command=audit_verify)
    checkpoint_cmd = audit.add_parser("checkpoint", help="sign the audit head (transfer user)")
    checkpoint_cmd.add_argument("--signing-key", type=Path,
                                help="default: the first of transfer.signing_keys")
    checkpoint_cmd.add_argument("--checkpoints", type=Path,
                                help="file to append to (default: audit.checkpoint_file)")
    checkpoint_cmd.set_defaults(command=audit_checkpoint)
    prune_cmd = audit.add_parser("prune", help="archive records older than the retention")
    prune_cmd.add_argument("--archive", type=Path, required=True, help="JSON lines file to write")
    prune_cmd.add_argument("--days", type=int, help="default: audit.retention_days")
    prune_cmd.set_defaults(command=audit_prune)
    for sub in (verify_cmd, prune_cmd):
        sub.add_argument("--checkpoints", type=Path,
                         help="signed checkpoints file (default: audit.checkpoint_file)")
        sub.add_argument("--trusted-key", type=Path, action="append",
                         help="transfer public key (default: audit.checkpoint_keys)")

    load = commands.add_parser("import", help="import an applicant list or a status file (CSV, TSV or .xlsx)")
    load.add_argument("file", type=Path)
    load.add_argument("--programme", required=True, help="programme code")
    load.add_argument("--mapping", type=Path, help="JSON: the file's headers → ours")
    load.add_argument("--dry-run", action="store_true", help="show what it would do, change nothing")
    load.set_defaults(command=import_file)

    disposal = commands.add_parser("disposal", help="programme disposal").add_subparsers(
        required=True)
    reapply_cmd = disposal.add_parser("reapply", help="erase a programme again from its "
                                      "disposal record (after restoring an older backup)")
    reapply_cmd.add_argument("record", type=Path, help="the record file (/disposals/N.json)")
    reapply_cmd.set_defaults(command=disposal_reapply)

    demo_cmd = commands.add_parser("demo", help="load demo programmes, users and applications")
    demo_cmd.add_argument("--applications", type=int, default=3000)
    demo_cmd.add_argument("--seed", type=int, default=2020)
    demo_cmd.set_defaults(command=demo)

    backups.add_commands(commands)
    return parser


# ``python -m intranet.cli``: how a restore runs `audit verify` as the staff app's OS user.
if __name__ == "__main__":
    sys.exit(main())
