"""The signer's and the pusher's own small ini files, and what they are not allowed to name
(their settings are read by ``transfer.config``, as the intranet ini's are).

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

A step given a setting that belongs to another refuses to start, naming it: a pusher that
is handed the database URL or a key path is a mistake in deployment, and the mistake is
shown instead of carried (the OS users and units are the real fence; this catches the
configuration that would try to climb it).
"""

import configparser
import os
from collections.abc import Mapping
from pathlib import Path

from transfer.config import TransferConfigError

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
