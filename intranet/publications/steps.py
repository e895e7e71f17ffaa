"""The four step commands of a publication (``shinsei-transfer build-spool`` …), one per OS
user deployed. Each reads only its own configuration: the builder and the recorder the
intranet ini (database, lookup key); the signer ``signer.ini``; the pusher ``pusher.ini``
(transfer.step_config refuses a step configuration naming what that step must not have).

Exit codes: 0 done (also: nothing to do); 1 refused or not delivered everywhere, with the
reason on standard error; 2 the configuration is wrong.
"""

import argparse
import sys
from pathlib import Path
from typing import Any


def build_spool(args: argparse.Namespace) -> int:
    from pyramid.paster import setup_logging

    from intranet.db import open_database
    from intranet.publications import builder, job, recorder
    from transfer.config import TransferConfigError

    setup_logging(args.config)
    with open_database(args.config) as (session_factory, settings):
        try:
            plan, root = job.build_plan_from_settings(settings)
        except TransferConfigError as error:
            return _configuration(error)
        recorder.record_results(session_factory, plan, root)   # an earlier run's report
        spooled = builder.build_spool(session_factory, plan, root)
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


def sign_spool(args: argparse.Namespace) -> int:
    from intranet.publications.signer import sign_spool as sign
    from transfer import spool, step_config
    from transfer.config import TransferConfigError

    try:
        settings = _own_settings(args, "signer", step_config.signer_settings)
    except TransferConfigError as error:
        return _configuration(error)
    try:
        signed = sign(settings.spool_dir, settings.signing_keys, settings.origin,
                      checkpoint_file=settings.checkpoint_file, max_size=settings.max_size)
    except spool.SpoolRefused as refused:
        print(f"署名しません: {refused}", file=sys.stderr)
        return 1
    if signed.sequence is None:
        print(f"audit checkpoint signed: {signed.checkpoint.count} records")
        if signed.catch_up is not None:
            print(f"snapshot-{signed.catch_up}.bin kept for hosts that missed it (not re-signed)")
        elif signed.catch_up_missing:
            print(signed.catch_up_missing, file=sys.stderr)
    else:
        print(f"{signed.path}{' (signed already)' if signed.already else ''}")
    return 0


def push_outbox(args: argparse.Namespace) -> int:
    from transfer import step_config
    from transfer.config import TransferConfigError
    from transfer.push import push_signed
    from transfer.transports import Delivery

    try:
        settings = _own_settings(args, "pusher", step_config.pusher_settings)
    except TransferConfigError as error:
        return _configuration(error)
    result = push_signed(settings.spool_dir, settings.destinations, settings.policy)
    if result is None:
        print("nothing new to push")
        return 0
    if not result["verified"]:
        print(f"送りません: {result['reason']}", file=sys.stderr)
        if result["kind"] == "redelivery":
            report([Delivery(**d) for d in result["deliveries"]])
        return 1
    if result["kind"] == "redelivery":
        print(f"snapshot-{result['sequence']}.bin sent again (same file) to the hosts that "
              "missed it:")
    return report([Delivery(**d) for d in result["deliveries"]])


def record_deliveries(args: argparse.Namespace) -> int:
    from pyramid.paster import setup_logging

    from intranet.db import open_database
    from intranet.publications import job, recorder
    from transfer.config import TransferConfigError

    setup_logging(args.config)
    with open_database(args.config) as (session_factory, settings):
        try:
            plan, root = job.build_plan_from_settings(settings)
        except TransferConfigError as error:
            return _configuration(error)
        deliveries = recorder.record_results(session_factory, plan, root)
    return report(deliveries) if deliveries else 0


def report(deliveries) -> int:
    for delivery in deliveries:
        outcome = "delivered" if delivery.delivered else f"FAILED: {delivery.reason}"
        print(f"{delivery.destination}: {outcome}")
    return 0 if all(d.delivered for d in deliveries) else 1


def _own_settings(args: argparse.Namespace, section: str, parse: Any) -> Any:
    """A step without the intranet ini (signer, pusher): its own ini, parsed (TransferConfigError
    if it is wrong); it has no logging section, so log records go to standard error."""
    import logging

    from transfer import step_config

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return parse(step_config.read(args.config, section))


def _configuration(error: Exception) -> int:
    print(f"設定: {error}", file=sys.stderr)
    return 2


def add_commands(commands: Any) -> None:
    for name, command, default, text in (
            ("build-spool", build_spool, "development.ini",
             "builder: the approved publication's table, unsigned, into the spool"),
            ("sign-spool", sign_spool, None, "signer: sign the spooled table (no database)"),
            ("push-outbox", push_outbox, None,
             "pusher: send the signed snapshot to the public hosts (no database, no key)"),
            ("record-deliveries", record_deliveries, "development.ini",
             "recorder: the pusher's report into the publication and the audit")):
        parser = commands.add_parser(name, help=text)
        if default:
            parser.add_argument("-c", "--config", default=default, help="intranet ini file")
        else:
            parser.add_argument("-c", "--config", type=Path, required=True,
                                help="this step's own ini ([shinsei-transfer] section)")
        parser.set_defaults(command=command)
