"""The publication's two steps that hold no database, as commands: ``shinsei-transfer
sign-spool`` (the signer: the spooled table → signed snapshot; the signing key, no network)
and ``push-outbox`` (the pusher: signed snapshot → public hosts; no key). Each reads only its
own ini (``transfer.step_config``, which refuses a setting the step must not have) and
imports nothing but ``transfer`` (``tests/unit/test_import_graph.py``) — and only inside its
command, so ``verify`` and ``inspect`` still load where paramiko is not installed. The builder and the
recorder, which hold the database, are ``intranet.publications.steps``.

Exit codes: 0 done (also: nothing to do); 1 refused or not delivered everywhere, with the
reason on standard error; 2 the configuration is wrong.
"""

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from transfer.transports import Delivery


def sign_spool(args: argparse.Namespace) -> int:
    from transfer import config, spool
    from transfer.signer import sign_spool as sign

    try:
        settings = own_settings(args, "signer", config.signer_settings)
    except config.TransferConfigError as error:
        return configuration_refused(error)
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
    from transfer import config
    from transfer.push import push_signed

    try:
        settings = own_settings(args, "pusher", config.pusher_settings)
    except config.TransferConfigError as error:
        return configuration_refused(error)
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


def report(deliveries: Iterable[Delivery]) -> int:
    """One line per destination; 0 when every one was delivered, else 1."""
    outcomes = list(deliveries)
    for delivery in outcomes:
        outcome = "delivered" if delivery.delivered else f"FAILED: {delivery.reason}"
        print(f"{delivery.destination}: {outcome}")
    return 0 if all(d.delivered for d in outcomes) else 1


def own_settings(args: argparse.Namespace, step: str, parse: Callable[[Any], Any]) -> Any:
    """A step without the intranet ini (signer, pusher): its own ini, parsed (TransferConfigError
    if it is wrong); it has no logging section, so log records go to standard error."""
    import logging

    from transfer import step_config

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return parse(step_config.read(args.config, step))


def configuration_refused(error: Exception) -> int:
    print(f"設定: {error}", file=sys.stderr)
    return 2


def add_commands(commands: Any) -> None:
    for name, command, text in (
            ("sign-spool", sign_spool, "signer: sign the spooled table (no database)"),
            ("push-outbox", push_outbox,
             "pusher: send the signed snapshot to the public hosts (no database, no key)")):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("-c", "--config", type=Path, required=True,
                            help="this step's own ini ([shinsei-transfer] section)")
        parser.set_defaults(command=command)
