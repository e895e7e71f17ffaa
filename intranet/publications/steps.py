"""The publication's two steps that hold the database, as commands: ``shinsei-transfer
build-spool`` (the builder) and ``record-deliveries`` (the recorder), one OS user deployed.
Both read the intranet ini (database, lookup key); the builder's refuses the signing key.
The steps without a database (sign, push) are ``transfer.steps``.

Exit codes: 0 done (also: nothing to do); 1 not delivered everywhere, with the reason on
standard error; 2 the configuration is wrong.
"""

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transfer.steps import configuration_refused, report


def build_spool(args: argparse.Namespace) -> int:
    from intranet.publications import builder, recorder
    from transfer.config import TransferConfigError  # inside, as each step's imports (publications.cli)

    try:
        with _builder_plan(args) as (session_factory, plan, root):
            recorder.record_results(session_factory, plan, root)   # an earlier run's report
            spooled = builder.build_spool(session_factory, plan, root)
    except TransferConfigError as error:
        return configuration_refused(error)
    if spooled.refused:
        # Still 0: the audit head is spooled and must be signed; the refusal is audited.
        print(f"publication {spooled.publication_id} refused: {spooled.refused}", file=sys.stderr)
    elif spooled.publication_id is None:
        print("nothing approved: only the audit head is spooled for signing")
    if spooled.catch_up:
        print(f"current publication {spooled.catch_up['publication']} (sequence "
              f"{spooled.catch_up['sequence']}) named again for hosts that missed it")
    else:
        print(f"publication {spooled.publication_id} spooled for signing")
    return 0


def prepare_spool(args: argparse.Namespace) -> int:
    """The newest request waiting for its approval: its table made and kept in the builder's
    cache (builder.prepare_waiting). Spools nothing: not a step of the publication run."""
    from intranet.publications import builder
    from transfer import spool
    from transfer.config import TransferConfigError

    try:
        with _builder_plan(args) as (session_factory, plan, root):
            prepared = builder.prepare_waiting(session_factory, plan,
                                               spool.directories(root)[spool.BUILT])
    except TransferConfigError as error:
        return configuration_refused(error)
    print(f"publication {prepared} prepared" if prepared else "nothing waiting to prepare")
    return 0


def record_deliveries(args: argparse.Namespace) -> int:
    from intranet.publications import recorder
    from transfer.config import TransferConfigError

    try:
        with _builder_plan(args) as (session_factory, plan, root):
            deliveries = recorder.record_results(session_factory, plan, root)
    except TransferConfigError as error:
        return configuration_refused(error)
    return report(deliveries) if deliveries else 0


@contextlib.contextmanager
def _builder_plan(args: argparse.Namespace) -> Iterator[tuple[Any, Any, Path]]:
    """The builder's user's database, plan and spool root, from the intranet ini
    (TransferConfigError naming the setting that is wrong)."""
    from intranet import ini
    from intranet.db import open_database
    from intranet.publications import job

    ini.setup_logging(args.config)
    with open_database(args.config) as (session_factory, settings):
        plan, root = job.build_plan_from_settings(settings)
        yield session_factory, plan, root


def add_commands(commands: Any) -> None:
    for name, command, text in (
            ("build-spool", build_spool,
             "builder: the approved publication's table, unsigned, into the spool"),
            ("prepare-spool", prepare_spool,
             "builder, before the approval: the waiting request's table into its own cache"),
            ("record-deliveries", record_deliveries,
             "recorder: the pusher's report into the publication and the audit")):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("-c", "--config", default="development.ini", help="intranet ini file")
        parser.set_defaults(command=command)
