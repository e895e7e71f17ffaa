"""The one reader of the ``transfer.*`` settings, whichever file holds them: the intranet ini
(the builder and the recorder, and ``shinsei-transfer publish`` on a single demo machine) or
a step's own ini (the signer's ``signer.ini``, the pusher's ``pusher.ini``, read by
``transfer.step_config``, which also refuses what a step must not have).

    transfer.origin       = 142158:prod               (団体コード:prod or 団体コード:test)
    transfer.valid_hours  = 72                        (how long a snapshot is valid)
    transfer.spool_dir    = /var/spool/shinsei/transfer
    transfer.signing_keys = var/keys/sign.key         (key files, or folders of *.key, 0600)
    transfer.public_keys  = /etc/shinsei/pusher/trusted   (files, or folders of *.pub)
    transfer.lookup_key   = var/keys/lookup.key       (mode 0600)
    transfer.destinations = sftp://shinsei-upload@mirror1.example.lg.jp:22/inbox
                            outbox:/var/spool/shinsei/outbox
    transfer.known_hosts  = var/keys/known_hosts      (pinned host keys)
    transfer.client_key   = var/keys/id_ed25519
    transfer.timeout      = 15
    transfer.retries      = 2
    transfer.deadline     = 600      (seconds per attempt, whatever the host does)
    transfer.usage_file   = /usage/usage-counts.json  (fetched after each upload; empty: not)
    transfer.max_size     = (bytes; the verifier's default)
    audit.checkpoint_file = (where the signer appends signed audit checkpoints)

Key settings name files or folders (``transfer.keys.key_files``): the signer signs with every
``*.key`` in its folder, the pusher trusts every ``*.pub`` in its own — a key rotation adds
and removes files there (docs/runbook) and edits nothing here. Each reader raises
``TransferConfigError`` naming the setting that is wrong and why.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from transfer.keys import (
    SigningKey,
    key_files,
    load_lookup_key,
    load_public_key,
    load_signing_key,
)
from transfer.snapshot import VALID_HOURS
from transfer.transports import Destination, OutboxDestination
from transfer.verify import DEFAULT_MAX_SIZE, Origin, TrustPolicy

Settings = Mapping[str, Any]


class TransferConfigError(ValueError):
    pass


@dataclass(frozen=True)
class TransferSettings:
    """The one-process job's (``shinsei-transfer publish``): every step's settings at once."""
    signing_keys: list[SigningKey]
    lookup_secret: bytes
    origin: Origin
    destinations: list[Destination]
    valid_for: timedelta


@dataclass(frozen=True)
class PusherSettings:
    spool_dir: Path
    policy: TrustPolicy
    destinations: list[Destination]


@dataclass(frozen=True)
class SignerSettings:
    spool_dir: Path
    origin: Origin
    signing_keys: list[SigningKey]
    checkpoint_file: Path | None
    max_size: int


def origin(settings: Settings) -> Origin:
    """``transfer.origin``: the origin every snapshot carries; the public hosts refuse any
    other, so a missing or misspelt one is refused here rather than signed."""
    try:
        return Origin.checked(str(settings.get("transfer.origin", "")))
    except ValueError as wrong:
        raise TransferConfigError(f"transfer.origin は {wrong}") from None


def valid_for(settings: Settings) -> timedelta:
    """``transfer.valid_hours``: how long a snapshot is valid (default VALID_HOURS)."""
    return timedelta(hours=_positive(settings, "transfer.valid_hours", VALID_HOURS,
                                     "時間数"))


def max_size(settings: Settings) -> int:
    return _positive(settings, "transfer.max_size", DEFAULT_MAX_SIZE, "バイト数")


def spool_dir(settings: Settings) -> Path:
    return Path(_required(settings, "transfer.spool_dir"))


def lookup_secret(settings: Settings) -> bytes:
    return load_lookup_key(Path(_required(settings, "transfer.lookup_key")))


def signing_keys(settings: Settings) -> list[SigningKey]:
    named = str(settings.get("transfer.signing_keys", "")).split()
    keys = key_files(named, ("*.key",))
    if not keys:
        raise TransferConfigError("transfer.signing_keys に署名鍵がありません"
                                  f"（{' '.join(named) or '設定なし'}）: 署名する係には署名鍵が要ります")
    return [load_signing_key(path) for path in keys]


def trust_policy(settings: Settings) -> TrustPolicy:
    """What the pusher believes before it sends: the signer's public keys and the origin."""
    believed = origin(settings)          # a wrong origin is named before any key is read
    named = str(settings.get("transfer.public_keys", "")).split()
    paths = key_files(named, ("*.pub",))
    if not paths:
        raise TransferConfigError("transfer.public_keys に公開鍵がありません"
                                  f"（{' '.join(named) or '設定なし'}）: 送る前に署名を確かめる"
                                  "公開鍵が要ります")
    return TrustPolicy([load_public_key(p) for p in paths], believed,
                       max_size=max_size(settings))


def destinations(settings: Settings) -> list[Destination]:
    return [destination(spec, settings) for spec in _destination_specs(settings)]


def destination_names(settings: Settings) -> tuple[str, ...]:
    """The names the destinations are reported under, from their specs alone: what the
    recorder, which holds no SSH key, believes a report may name."""
    return tuple(destination_name(spec) for spec in _destination_specs(settings))


def checkpoint_file(settings: Settings) -> Path | None:
    named = settings.get("audit.checkpoint_file")
    return Path(named) if named else None


def transfer_settings(settings: Settings) -> TransferSettings:
    return TransferSettings(signing_keys(settings), lookup_secret(settings), origin(settings),
                            destinations(settings), valid_for(settings))


def pusher_settings(settings: Settings) -> PusherSettings:
    return PusherSettings(spool_dir(settings), trust_policy(settings), destinations(settings))


def signer_settings(settings: Settings) -> SignerSettings:
    return SignerSettings(spool_dir(settings), origin(settings), signing_keys(settings),
                          checkpoint_file(settings), max_size(settings))


def destination(spec: str, settings: Settings) -> Destination:
    # Here, not at the top: paramiko (~0.1 s to import) only for a step that pushes; the
    # builder and the signer start without it (approval → visible counts their start).
    from transfer.sftp import USAGE_FILE, SftpDestination

    if spec.startswith("outbox:"):
        return OutboxDestination(Path(spec[len("outbox:"):]))
    parts = _sftp(spec)
    for key in ("transfer.known_hosts", "transfer.client_key"):
        if not settings.get(key):
            raise TransferConfigError(f"{key} is needed for {spec}")
    assert parts.hostname and parts.username
    return SftpDestination(parts.hostname, parts.port or 22, parts.username,
                           Path(settings["transfer.client_key"]),
                           Path(settings["transfer.known_hosts"]), parts.path or "/inbox",
                           timeout=float(settings.get("transfer.timeout", 15)),
                           retries=int(settings.get("transfer.retries", 2)),
                           deadline=float(settings.get("transfer.deadline", 600)),
                           usage_file=str(settings.get("transfer.usage_file", USAGE_FILE)))


def destination_name(spec: str) -> str:
    """The name a destination is reported under (``Destination.name``), from its spec alone."""
    if spec.startswith("outbox:"):
        return f"outbox:{Path(spec[len('outbox:'):])}"
    parts = _sftp(spec)
    return f"sftp://{parts.username}@{parts.hostname}:{parts.port or 22}{parts.path or '/inbox'}"


def lines(value: object) -> list[str]:
    # As pyramid's aslist(flatten=False): one destination per line (kept free of pyramid).
    return [line.strip() for line in str(value).splitlines() if line.strip()]


def _destination_specs(settings: Settings) -> list[str]:
    specs = lines(settings.get("transfer.destinations", ""))
    if not specs:
        raise TransferConfigError("transfer.destinations が空です: 送り先がありません")
    return specs


def _sftp(spec: str) -> SplitResult:
    parts = urlsplit(spec)
    if parts.scheme != "sftp" or not parts.hostname or not parts.username:
        raise TransferConfigError(f"transfer.destinations: cannot read {spec!r} "
                                  "(sftp://USER@HOST:PORT/DIR or outbox:/DIR)")
    return parts


def _required(settings: Settings, name: str) -> str:
    value = str(settings.get(name, "") or "")
    if not value:
        raise TransferConfigError(f"{name} がありません")
    return value


def _positive(settings: Settings, name: str, default: int, unit: str) -> int:
    written = settings.get(name, default)
    try:
        value = int(written)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise TransferConfigError(f"{name} は正の整数（{unit}）です（{written!r}）")
    return value
