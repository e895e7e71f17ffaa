"""What the signer and the pusher are allowed to know, read from their own small ini files.

    # /etc/shinsei/pusher.ini (owner root, readable by shinsei-pusher)
    [shinsei-transfer]
    transfer.spool_dir    = /var/spool/shinsei/transfer
    transfer.origin       = 142158:prod
    transfer.public_keys  = /etc/shinsei/pusher/trusted
    transfer.destinations = sftp://shinsei-upload@192.0.2.10:22/inbox
    transfer.known_hosts  = /etc/shinsei/pusher/known_hosts
    transfer.client_key   = /etc/shinsei/pusher/id_ed25519

    # /etc/shinsei/signer.ini (owner root, readable by shinsei-signer)
    [shinsei-transfer]
    transfer.spool_dir    = /var/spool/shinsei/transfer
    transfer.origin       = 142158:prod
    transfer.signing_keys = /etc/shinsei/signer
    audit.checkpoint_file = /var/lib/shinsei-signer/checkpoints/audit-checkpoints.jsonl

Key settings name files or folders (``transfer.keys.key_files``): the signer signs with every
``*.key`` in its folder, the pusher trusts every ``*.pub`` in its own — a key rotation adds
and removes files there (docs/runbook) and edits nothing here.

A step given a setting that belongs to another refuses to start, naming it: a pusher that
is handed the database URL or a key path is a mistake in deployment, and the mistake is
shown instead of carried (the OS users and units are the real fence; this catches the
configuration that would try to climb it).
"""

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from transfer.config import TransferConfigError, destination, lines
from transfer.keys import SigningKey, key_files, load_public_key, load_signing_key
from transfer.transports import Destination
from transfer.verify import DEFAULT_MAX_SIZE, Origin, TrustPolicy

SECTION = "shinsei-transfer"
# Settings (and environment variables) that would put the database or a secret key in
# reach of a step that must not have it.
DATABASE = ("sqlalchemy.url", "SHINSEI_DATABASE_URL")
FORBIDDEN = {
    "pusher": (*DATABASE, "transfer.signing_keys", "transfer.lookup_key"),
    "signer": (*DATABASE, "transfer.lookup_key", "transfer.client_key", "transfer.destinations"),
}
WHY = {"pusher": "インターネット側へ接続する係はデータベースにも署名鍵・照合鍵にも触れません",
       "signer": "署名係はデータベースにもネットワークにも照合鍵にも触れません"}


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


def read(path: Path, step: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The ``[shinsei-transfer]`` settings of a step's ini; refused if any section (or the
    environment) names what the step must not have."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        raise TransferConfigError(f"{path}: 設定ファイルがありません") from None
    except (OSError, UnicodeDecodeError, configparser.Error) as error:
        raise TransferConfigError(f"{path}: 設定ファイルとして読めません（{error}）") from None
    for name in FORBIDDEN[step]:
        if name in environ:
            raise TransferConfigError(f"環境変数 {name} が設定されています: {WHY[step]}。"
                                      "取り除いてから起動してください")
        for section in [parser.default_section, *parser.sections()]:
            if parser.has_option(section, name) if section != parser.default_section \
                    else name in parser.defaults():
                raise TransferConfigError(f"{path} [{section}] に {name} があります: {WHY[step]}。"
                                          "この行を取り除いてください")
    if not parser.has_section(SECTION):
        raise TransferConfigError(f"{path}: [{SECTION}] の節がありません")
    return dict(parser.items(SECTION))


def pusher_settings(settings: Mapping[str, str]) -> PusherSettings:
    specs = lines(settings.get("transfer.destinations", ""))
    if not specs:
        raise TransferConfigError("transfer.destinations が空です: 送り先がありません")
    return PusherSettings(_spool_dir(settings), trust_policy(settings),
                          [destination(spec, settings) for spec in specs])


def signer_settings(settings: Mapping[str, str]) -> SignerSettings:
    named = str(settings.get("transfer.signing_keys", "")).split()
    keys = key_files(named, ("*.key",))
    if not keys:
        raise TransferConfigError("transfer.signing_keys に署名鍵がありません"
                                  f"（{' '.join(named) or '設定なし'}）: 署名係には署名鍵が要ります")
    checkpoint = settings.get("audit.checkpoint_file")
    return SignerSettings(_spool_dir(settings), _origin(settings),
                          [load_signing_key(p) for p in keys],
                          Path(checkpoint) if checkpoint else None, _max_size(settings))


def trust_policy(settings: Mapping[str, str]) -> TrustPolicy:
    """What the pusher believes before it sends: the signer's public keys and the origin."""
    named = str(settings.get("transfer.public_keys", "")).split()
    paths = key_files(named, ("*.pub",))
    if not paths:
        raise TransferConfigError("transfer.public_keys に公開鍵がありません"
                                  f"（{' '.join(named) or '設定なし'}）: 送る前に署名を確かめる"
                                  "公開鍵が要ります")
    origin = _origin(settings)
    return TrustPolicy([load_public_key(p) for p in paths], origin,
                       max_size=_max_size(settings))


def _spool_dir(settings: Mapping[str, str]) -> Path:
    if not settings.get("transfer.spool_dir"):
        raise TransferConfigError("transfer.spool_dir がありません")
    return Path(settings["transfer.spool_dir"])


def _origin(settings: Mapping[str, str]) -> Origin:
    origin = Origin.parse(str(settings.get("transfer.origin", "")))
    if not origin.municipality or origin.environment not in ("prod", "test"):
        raise TransferConfigError("transfer.origin は 団体コード:prod または 団体コード:test "
                                  f"です（{settings.get('transfer.origin', '')!r}）")
    return origin


def _max_size(settings: Mapping[str, str]) -> int:
    try:
        return int(settings.get("transfer.max_size", DEFAULT_MAX_SIZE))
    except ValueError:
        raise TransferConfigError("transfer.max_size は整数（バイト数）です") from None
