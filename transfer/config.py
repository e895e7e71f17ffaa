"""The one-process job's settings (``shinsei-transfer publish``, a single demo machine), read
from the intranet ini's ``transfer.*`` keys. Deployed, each step reads its own ini instead
(``transfer.step_config``).

    transfer.signing_keys = var/keys/sign.key         (key files, or folders of *.key, 0600)
    transfer.lookup_key   = var/keys/lookup.key       (mode 0600)
    transfer.destinations = sftp://shinsei-upload@mirror1.example.lg.jp:22/inbox
                            outbox:/var/spool/shinsei/outbox
    transfer.known_hosts  = var/keys/known_hosts      (pinned host keys)
    transfer.client_key   = var/keys/id_ed25519
    transfer.valid_hours  = 72
    transfer.timeout      = 15
    transfer.retries      = 2
    transfer.deadline     = 600      (seconds per attempt, whatever the host does)
    transfer.usage_file   = /usage/usage-counts.json  (fetched after each upload; empty: not)

Only what the keys and transports need is read here; what the intranet adds (who the job
is, which database) is the intranet's business.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from transfer.keys import SigningKey, key_files, load_lookup_key, load_signing_key
from transfer.sftp import USAGE_FILE, SftpDestination
from transfer.transports import Destination, OutboxDestination
from transfer.verify import Origin

Settings = Mapping[str, Any]


class TransferConfigError(ValueError):
    pass


@dataclass(frozen=True)
class TransferSettings:
    signing_keys: list[SigningKey]
    lookup_secret: bytes
    origin: Origin
    destinations: list[Destination]
    valid_for: timedelta


def destination(spec: str, settings: Settings) -> Destination:
    if spec.startswith("outbox:"):
        return OutboxDestination(Path(spec[len("outbox:"):]))
    parts = urlsplit(spec)
    if parts.scheme != "sftp" or not parts.hostname or not parts.username:
        raise TransferConfigError(f"transfer.destinations: cannot read {spec!r} "
                                  "(sftp://USER@HOST:PORT/DIR or outbox:/DIR)")
    for key in ("transfer.known_hosts", "transfer.client_key"):
        if not settings.get(key):
            raise TransferConfigError(f"{key} is needed for {spec}")
    return SftpDestination(parts.hostname, parts.port or 22, parts.username,
                           Path(settings["transfer.client_key"]),
                           Path(settings["transfer.known_hosts"]), parts.path or "/inbox",
                           timeout=float(settings.get("transfer.timeout", 15)),
                           retries=int(settings.get("transfer.retries", 2)),
                           deadline=float(settings.get("transfer.deadline", 600)),
                           usage_file=str(settings.get("transfer.usage_file", USAGE_FILE)))


def destination_name(spec: str) -> str:
    """The name a destination is reported under (``Destination.name``), from its spec alone:
    what the recorder, which holds no SSH key, believes a report may name."""
    if spec.startswith("outbox:"):
        return f"outbox:{Path(spec[len('outbox:'):])}"
    parts = urlsplit(spec)
    if parts.scheme != "sftp" or not parts.hostname or not parts.username:
        raise TransferConfigError(f"transfer.destinations: cannot read {spec!r} "
                                  "(sftp://USER@HOST:PORT/DIR or outbox:/DIR)")
    return f"sftp://{parts.username}@{parts.hostname}:{parts.port or 22}{parts.path or '/inbox'}"


def transfer_settings(settings: Settings) -> TransferSettings:
    specs = lines(settings.get("transfer.destinations", ""))
    if not specs:
        raise TransferConfigError("transfer.destinations is empty: nowhere to publish to")
    keys = str(settings.get("transfer.signing_keys", "")).split()
    if not keys or not settings.get("transfer.lookup_key"):
        raise TransferConfigError("transfer.signing_keys and transfer.lookup_key are needed")
    return TransferSettings(
        signing_keys=[load_signing_key(p) for p in key_files(keys, ("*.key",))],
        lookup_secret=load_lookup_key(Path(settings["transfer.lookup_key"])),
        origin=Origin(settings.get("shinsei.municipality_code", ""),
                      settings.get("shinsei.environment", "prod")),
        destinations=[destination(spec, settings) for spec in specs],
        valid_for=timedelta(hours=int(settings.get("transfer.valid_hours", 72))),
    )


def lines(value: object) -> list[str]:
    # As pyramid's aslist(flatten=False): one destination per line (kept free of pyramid).
    return [line.strip() for line in str(value).splitlines() if line.strip()]
