"""``shinsei-intranet``: database, accounts, audit and demo data on the intranet host."""

import argparse
import getpass
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from string import Template

import transaction
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from intranet import ini, migrations
from intranet import settings as settings_loader
from intranet.audit import services as audit_services
from intranet.audit import writer
from intranet.auth.models import ROLES
from intranet.backups import cli as backups
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.users import services as users
from transfer import checkpoints, collector, config_file, version


def main(argv=None):
    collector.for_bulk_work()
    args = _parser().parse_args(argv)
    args.config = config_file.resolve(args.config, "intranet")
    ini.setup_logging(args.config)
    try:
        settings = settings_loader.load(ini.app_settings(args.config), web=False)
    except settings_loader.SettingsError as refused:   # e.g. the city's 外字 table
        print(f"error: {args.config}: {refused}", file=sys.stderr)
        return 2
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
        users.bootstrap_account(dbsession, ctx.actor, args.username,
                                args.name or args.username, args.role, password)
    print(f"user {args.username} added with role {args.role}")


def user_passwd(ctx, args):
    password = _read_password(args)
    with ctx.dbsession() as dbsession:
        users.set_password(dbsession, ctx.actor, _existing(dbsession, args.username), password)
    print(f"password of {args.username} changed; their sessions have ended")


def user_disable(ctx, args):
    with ctx.dbsession() as dbsession:
        account = _existing(dbsession, args.username)
        users.update_user(dbsession, ctx.actor, account, account.display_name, False)
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
    witnessed = _mirror_checkpoints(ctx, args)
    witnesses = audit_services.Witnesses.from_settings(_with_file(ctx, args), witnessed)
    with ctx.dbsession() as dbsession:
        verdict = audit_services.verify(dbsession, signed, workers=args.workers,
                                        witnesses=witnesses)
    if not verdict.ok:
        # Japanese first, naming the record; the English line is what scripts long matched.
        print(f"監査記録の検証に失敗しました（記録 {verdict.broken_seq} 番）: {verdict.reason}"
              f"（それより前の {verdict.count} 件は無傷です）", file=sys.stderr)
        print(f"audit chain BROKEN at record {verdict.broken_seq}: {verdict.reason} "
              f"({verdict.count} records before it are intact)", file=sys.stderr)
        return 1
    print(f"audit chain OK: {verdict.count} records, head {verdict.head_hash}")
    if witnessed is not None:
        print(f"公開ホストの署名付きチェックポイント {len(witnessed)} 件とも一致します"
              f" (agrees with the public host's {len(witnessed)} signed checkpoints)")
    if signed is None:
        print("warning: no signed checkpoints configured (audit.checkpoint_file); "
              "a recomputed or cut-back chain would pass this check", file=sys.stderr)
    elif not signed:
        print("agrees with 0 signed checkpoints")
        print(f"warning: {witnesses.where} holds no signed checkpoint; "
              "a recomputed or cut-back chain would pass this check (after a restore: "
              "`shinsei-intranet backup restore` puts the set's checkpoint file back; "
              "compare with a public host: --mirror-checkpoints)", file=sys.stderr)
    else:
        print(f"agrees with {verdict.checkpoints} signed checkpoints, the last of "
              f"{signed[-1].count} records at {signed[-1].at:%Y-%m-%d %H:%M} UTC")
    return 0


def _with_file(ctx, args) -> dict:
    """The settings with --checkpoints in place of audit.checkpoint_file (for messages)."""
    if getattr(args, "checkpoints", None):
        return {**ctx.settings, "audit.checkpoint_file": str(args.checkpoints)}
    return ctx.settings


def _mirror_checkpoints(ctx, args):
    """The checkpoints a public host's activation log kept (``shinsei-mirror status
    --checkpoints`` saved to a file), each checked with the transfer keys; None: not given."""
    path = getattr(args, "mirror_checkpoints", None)
    if path is None:
        return None
    spec = " ".join(str(k) for k in args.trusted_key) if args.trusted_key \
        else ctx.settings.get("audit.checkpoint_keys", "")
    keys = checkpoints.trusted_keys(spec)
    if not keys:
        raise checkpoints.CheckpointError(
            f"{path}: 公開ホストのチェックポイントを確かめる公開鍵がありません"
            "（audit.checkpoint_keys または --trusted-key）")
    try:
        witnessed = checkpoints.read_file(path, keys)
    except checkpoints.CheckpointError as error:
        raise checkpoints.CheckpointError(f"公開ホストのチェックポイント: {error}") from None
    if not witnessed:
        raise checkpoints.CheckpointError(
            f"{path}: 署名付きチェックポイントが 1 件もありません（公開ホストで "
            "`shinsei-mirror status --checkpoints` を実行し、その出力を保存したファイルを"
            "渡してください）")
    return witnessed


def _worker_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number from 1 to 64")
    return int(text)


def audit_checkpoint(ctx, args):
    """Sign the audit head with the transfer key (run as the transfer job's OS user)."""
    from transfer import config as transfer_config
    from transfer.errors import KeyFileError
    from transfer.keys import load_signing_key

    path = args.checkpoints or ctx.settings.get("audit.checkpoint_file")
    if not path:
        print("error: audit.checkpoint_file (or --checkpoints) is needed", file=sys.stderr)
        return 2
    try:
        # The key the snapshot's signer reads (a file or a folder of keys: the first signs).
        signing_key = (load_signing_key(args.signing_key) if args.signing_key
                       else transfer_config.signing_keys(ctx.settings)[0])
    except (transfer_config.TransferConfigError, KeyFileError) as refused:
        print(f"error: {refused} (or --signing-key)", file=sys.stderr)
        return 2
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
    retention = ctx.settings["audit.retention_days"]
    days = retention if args.days is None else args.days
    if days < retention:
        # `audit verify` refuses a start younger than audit.retention_days: a shorter prune
        # would look exactly like records cut off (intranet.audit.truncation).
        print(f"error: --days {days} は audit.retention_days（{retention} 日）より短い保存期間"
              "です。保存期間を短くするときは ini の audit.retention_days を変えてください"
              "（audit verify はそれより新しい起点を、記録が削られたものとして拒否します）",
              file=sys.stderr)
        return 2
    with ctx.dbsession() as dbsession:
        count = prune(dbsession, ctx.actor, days, args.archive, signed)
    print(f"archived {count} records to {args.archive}" if count
          else "nothing to archive (no signed checkpoint among the expired records)")


def disposal_reapply(ctx, args):
    """Erase a programme again from its disposal record (after restoring an older backup)."""
    from intranet.disposal import erase, reapply
    from intranet.disposal.services import DisposalRefused
    from intranet.imports.spool import Spool

    try:
        with ctx.dbsession() as dbsession:
            disposal = reapply.reapply(dbsession, ctx.actor, _record_bytes(args.record),
                                       Spool.from_settings(ctx.settings).directory)
            applications, code = disposal.applications, disposal.programme.code
    except (DisposalRefused, OSError) as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    erase.compact(ctx.engine)
    print(f"disposal re-applied to {code}: {applications} applications erased")


def _record_bytes(record: Path) -> bytes:
    """The record file, or standard input for ``-``: run as the staff app's OS user, the
    command may not be allowed to open a file root keeps (``runuser ... reapply - < FILE``)."""
    return sys.stdin.buffer.read() if str(record) == "-" else record.read_bytes()


def demo(ctx, args):
    from intranet import demo as demo_data

    with ctx.dbsession() as dbsession:
        credentials = demo_data.seed(dbsession, ctx.actor, args.applications, args.seed)
    print("demo users (username / password / role):")
    for username, password, role in credentials:
        print(f"  {username:12} {password:24} {role}")


def import_file(ctx, args):
    """Import a CSV (dry run first with --dry-run); all rows or none."""
    from intranet.deficiencies import catalogue as kind_catalogue
    from intranet.imports.errors import ImportRefused
    from intranet.imports.plan import plan_import
    from intranet.programmes.models import Programme
    from intranet.statuses.services import load_catalogue

    clash = _clashing_outputs(args)
    if clash:
        print(f"error: {clash}", file=sys.stderr)
        return 2
    try:
        data = _read_import_file(args.file, int(ctx.settings["imports.max_bytes"]))
        mapping = _read_mapping(args.mapping) if args.mapping else None
    except (OSError, ImportRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def progress(count):
        print(f"\r  {count:,} rows read", end="", file=sys.stderr, flush=True)

    try:
        with _problems_file(args.problems) as sink, ctx.dbsession() as dbsession:
            programme = dbsession.execute(select(Programme).where(
                Programme.code == args.programme)).scalar_one_or_none()
            if programme is None:
                print(f"error: no programme {args.programme}", file=sys.stderr)
                return 2
            catalogue = load_catalogue(dbsession)
            words = _value_words(catalogue, kind_catalogue.load(dbsession, programme.id))
            with _changes_file(args.changes, words) as changes:
                if args.dry_run:
                    plan = plan_import(dbsession, catalogue, programme, data, args.file.name,
                                       mapping, progress, sink=sink(),
                                       gaiji_table=ctx.settings.get("imports.gaiji"),
                                       changes_sink=changes())
                else:
                    # One pass that plans and writes; any error aborts the transaction.
                    plan = _try_apply(dbsession, ctx.actor, programme, catalogue, data,
                                      args.file.name, mapping, progress, sink,
                                      ctx.settings.get("imports.gaiji"), changes)
            print(file=sys.stderr)
            _print_plan(plan, words)
            if args.problems:
                print(f"problems written to {args.problems}: "
                      f"{plan.error_count + plan.notice_count:,} rows")
            if args.changes:
                print(f"changes written to {args.changes}: {plan.count('changed'):,} rows")
            if plan.error_count:
                transaction.abort()
                return 1
            if not args.dry_run:
                print("imported")
    except ImportRefused as refused:
        print(f"{args.file}: {refused}",
              file=sys.stderr)
        return 1
    except OSError as error:    # the --problems file
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _problems_file(path):
    """A function making a fresh problems writer, or None without --problems."""
    from intranet.imports.problems import CsvWriter

    return _csv_file(path, lambda handle: CsvWriter(
        handle, lambda message, mapping: Template(message).safe_substitute(mapping)))


def _changes_file(path, words):
    """A function making a fresh writer of every changed field, or None without --changes."""
    from intranet.imports.problems import ChangesWriter

    return _csv_file(path, lambda handle: ChangesWriter(handle, words))


def _clashing_outputs(args) -> str:
    """Why the --problems and --changes files cannot be written, or "": neither may be the
    file being imported (it would be overwritten), nor both the same file."""
    named = {"--problems": args.problems, "--changes": args.changes}
    seen: dict[Path, str] = {args.file.resolve(): "the file being imported"}
    for option, path in named.items():
        if path is None:
            continue
        other = seen.get(path.resolve())
        if other:
            return f"{option} {path} is {other}: name another file"
        seen[path.resolve()] = f"the {option} file"
    return ""


@contextmanager
def _csv_file(path, writer_on):
    """A function making a fresh ``writer_on(handle)`` on ``path`` (each call starts the
    file again: the import's second pass), or making None when no file was asked for."""
    if path is None:
        yield lambda: None
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        def fresh():
            handle.seek(0)
            handle.truncate()
            return writer_on(handle)
        yield fresh


def _value_words(catalogue, kinds):
    """``words(field, value)``: a stored or read value as staff read it."""
    from intranet.fields import ROUTE_WORDS as routes

    def words(field, value):
        if value is None:
            return ""
        if field == "status":
            return catalogue[value].staff_label if value in catalogue else value
        if field == "route":
            return routes.get(value, value)
        if field == "deficiency_kinds":
            return kinds.written(value)
        return str(value)
    return words


def _read_import_file(path, limit):
    """The file's bytes; one over the screen's upload limit is refused before it is read."""
    from intranet.imports.errors import ImportRefused

    if path.stat().st_size > limit:
        raise ImportRefused("ファイル ${file} は大きすぎます（上限 ${limit} MB）。"
                            "分割して取り込んでください。",
                            file=path.name, limit=limit // 2**20)
    return path.read_bytes()


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


def _try_apply(dbsession, actor, programme, catalogue, data, filename, mapping, progress,
               sink, gaiji_table=None, changes=lambda: None):
    """The import, or — when the file has errors — the plan that lists them. ``sink()`` and
    ``changes()`` make a fresh problems and changes writer for each pass."""
    from intranet.imports.apply import apply_import
    from intranet.imports.errors import ImportRefused
    from intranet.imports.plan import plan_import

    try:
        return apply_import(dbsession, actor, None, programme, catalogue, data, filename,
                            mapping, progress, sink(), gaiji_table, changes_sink=changes())
    except ImportRefused:
        transaction.abort()
        transaction.begin()
        return plan_import(dbsession, catalogue, programme, data, filename, mapping, progress,
                           sink=sink(), gaiji_table=gaiji_table, changes_sink=changes())


_ERRORS_SHOWN = 500   # as many as the import screen shows


def _print_plan(plan, words):
    from intranet.imports.columns import label

    _say(f"{plan.filename}: {plan.encoding}, {plan.kind}; new {plan.count('new')}, "
          f"changed {plan.count('changed')}, unchanged {plan.count('unchanged')}, "
          f"errors {plan.error_count}")
    skipped = f" (lines {', '.join(map(str, plan.lines_before))} skipped)" \
        if plan.lines_before else ""
    _say(f"  header: line {plan.header_line}{skipped}")
    if plan.sheet:
        _say(f"  sheet: {plan.sheet} (sheets: {', '.join(plan.sheets)})")
    for title, field in plan.columns.pairs:
        _say(f"  column {title} -> {label(field) or '(not imported)'}")
    _print_groups(plan)
    shown = plan.ungrouped[:_ERRORS_SHOWN]
    if plan.error_count:
        _say(f"errors: {plan.error_count:,} ({len(shown):,} shown one by one, the others by "
              "kind above; --problems FILE writes them all)")
    for error in shown:
        reason = Template(error.message).safe_substitute(error.mapping)
        _say(f"  line {error.line}, {error.column or 'row'}: {error.value!r}: {reason}")
    if plan.notice_count:
        _say(f"notices: {plan.notice_count:,} (each with its reason)")
    for notice in plan.notices[:_ERRORS_SHOWN]:
        reason = Template(notice.message).safe_substitute(notice.mapping)
        _say(f"  line {notice.line}, {notice.column}: stored "
              f"{notice.mapping.get('before') or ''!r}, file {notice.value!r}: {reason}")
    _print_changes(plan, words)


def _print_changes(plan, words):
    """The first changed rows, each changed field stored → file's (the screen's list)."""
    from intranet.imports.columns import label
    from intranet.imports.problems import before_of, changed_fields

    if not plan.rows:
        return
    _say(f"changed rows: {plan.count('changed'):,} ({len(plan.rows):,} shown; "
          "--changes FILE writes them all)")
    for row in plan.rows:
        fields = "; ".join(f"{label(name)} {words(name, before_of(row, name))!r} → "
                           f"{words(name, row.values[name])!r}" for name in changed_fields(row))
        _say(f"  line {row.line}, {row.receipt}: {fields}")


def _print_groups(plan):
    """The same problem on several rows: one line with the count, the first rows' lines and
    the column to add or fill."""
    def text(message, mapping):
        return Template(message).safe_substitute(mapping)

    groups = plan.grouped
    if groups:
        _say("problems by kind:")
    for group in groups:
        lines = ", ".join(map(str, group.lines)) + (" …" if group.count > len(group.lines) else "")
        fix = f" — {text(*group.fix)}" if group.fix else ""
        _say(f"  {group.count:,} rows (lines {lines}), {group.column or 'row'}: "
              f"e.g. {group.example!r}: {text(group.message, group.mapping)}{fix}")


def _say(line: str) -> None:
    """A line of a plan on the terminal: a control character from the file (ESC could hide
    or rewrite what follows) is written as its escape, never sent as it is."""
    print(_CONTROLS.sub(lambda found: repr(found.group())[1:-1], line))


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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
    add = user.add_parser("add", help="add the first administrator or security officer "
                          "(everyone else: on the staff app, approved by a second person)")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--name", help="display name")
    add.set_defaults(command=user_add)
    passwd = user.add_parser("passwd", help="set an administrator's or security officer's "
                             "password (recovery)")
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
    verify_cmd.add_argument("--mirror-checkpoints", type=Path, metavar="FILE",
                            help="also check against the signed checkpoints a public host "
                            "kept: the output of `shinsei-mirror status --checkpoints`, saved")
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
    load.add_argument("--changes", type=Path, metavar="FILE",
                      help="write every changed field, stored value → file's value, to a "
                           "UTF-8 CSV (Excel opens it)")
    load.add_argument("--problems", type=Path, metavar="FILE",
                      help="write every problem (each refused row, each kept value) to FILE, "
                      "a UTF-8 CSV Excel opens")
    load.set_defaults(command=import_file)

    disposal = commands.add_parser("disposal", help="programme disposal").add_subparsers(
        required=True)
    reapply_cmd = disposal.add_parser("reapply", help="erase a programme again from its "
                                      "disposal record (after restoring an older backup)")
    reapply_cmd.add_argument("record", type=Path,
                             help="the record file (/disposals/N.json); - reads standard input")
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
