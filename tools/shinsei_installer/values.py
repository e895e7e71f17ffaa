"""The values file (/etc/shinsei/site.env): what only the city knows, checked before anything
is changed. A missing or wrong value stops the installer with the value's name and the file;
nothing that identifies the city or its hosts ever has a silent default."""

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path


class ValuesError(Exception):
    """The values file cannot drive an install; the message names the file, line and value."""


@dataclass(frozen=True)
class Value:
    name: str
    roles: tuple[str, ...]
    meaning: str
    default: str | None = None      # None: required


BOTH = ("intranet", "public")
# The balancer in front of the public hosts (issue 29) reads the same file: the residents'
# name, certificate and page texts, and where the public hosts are.
RESIDENTS = ("intranet", "public", "balancer")
# A second intranet host, a PostgreSQL streaming standby of the first (issue 29).
DATABASE_HOSTS = ("intranet", "intranet-standby")
VALUES = [
    Value("MUNICIPALITY_CODE", BOTH, "全国地方公共団体コード（6桁）。スナップショットの発行元になります"),
    Value("MUNICIPALITY_NAME", RESIDENTS, "団体名（例: ○○市）"),
    Value("ENVIRONMENT", BOTH, "prod（本番）または test（検証）"),
    Value("SERVER_NAME", RESIDENTS, "このホストの HTTPS のホスト名（証明書の名前）"),
    Value("TLS_CERT", RESIDENTS, "このホストのサーバー証明書（PEM）のパス"),
    Value("TLS_KEY", RESIDENTS, "その秘密鍵（PEM）のパス"),
    Value("MANAGEMENT_ADDRESS", (*BOTH, "intranet-standby"),
          "SSH で管理する端末のアドレスまたはネットワーク（空白区切りで複数可）"),
    Value("PUBLIC_HOSTS", ("intranet", "balancer"),
          "公開ホストのアドレス（空白区切りで複数可）。転送先・振り分け先になります"),
    Value("STAFF_NETWORKS", ("intranet",), "職員端末のネットワーク（空白区切り）。空ならすべて", ""),
    Value("PUBLIC_HOST_KEYS", ("intranet",),
          "公開ホストの install.sh が作る known_hosts 行のファイル（2回目の実行で指定）", ""),
    Value("PG_SHARED_BUFFERS", DATABASE_HOSTS, "PostgreSQL の shared_buffers", "2GB"),
    Value("PG_EFFECTIVE_CACHE_SIZE", DATABASE_HOSTS, "PostgreSQL の effective_cache_size", "8GB"),
    Value("STANDBY_HOST", ("intranet",),
          "スタンバイ（2 台目の庁内ホスト）のアドレス。空ならスタンバイなし", ""),
    Value("STANDBY_MODE", ("intranet",),
          "async（非同期: 主が止まると直前の数秒の確定が失われることがあります）または "
          "sync（同期: 確定はスタンバイに届いてから。スタンバイが止まると書き込みも止まります）",
          "async"),
    Value("PRIMARY_HOST", ("intranet-standby",), "主（1 台目の庁内ホスト）のアドレス"),
    Value("STANDBY_FROM", ("intranet-standby",),
          "主の /var/lib/shinsei/carry-to-standby を運んだディレクトリ"),
    Value("INTRANET_HOST", ("public",), "庁内ホストのアドレス（SFTP を受け付ける相手）"),
    Value("UPLOAD_ADDRESS", ("public",),
          "庁内ホストから見たこのホストのアドレス（PUBLIC_HOSTS に書いたもの）"),
    Value("KEYS_FROM", ("public",), "庁内ホストの /var/lib/shinsei/carry-to-public を運んだディレクトリ"),
    Value("PUBLIC_URL", ("intranet",),
          "住民向けページのアドレス（通知文のリンクと QR コード）。空なら載せません", ""),
    Value("CONTACT", ("public", "balancer"), "住民向けの問い合わせ先（電話番号）"),
    Value("HOURS", ("public", "balancer"), "問い合わせの受付時間。空なら載せません", ""),
    Value("UPDATE_SCHEDULE", ("public",), "住民向けの更新時刻の説明（例: 平日の午前10時ごろ）"),
    Value("BALANCER_ADDRESSES", ("public",),
          "ロードバランサーのアドレス（空白区切り）。その X-Forwarded-For だけを住民のアドレスとして"
          "信じます。空ならロードバランサーなし", ""),
    Value("BALANCER_ENGINE", ("balancer",), "ロードバランサーのソフトウェア: haproxy または nginx",
          "haproxy"),
    Value("PUBLIC_HOSTS_CA", ("balancer",),
          "公開ホストの証明書を確かめる CA 証明書（PEM）のパス", "/etc/ssl/certs/ca-certificates.crt"),
]
# The residents' page is in 日本語, English and やさしい日本語: each text set in Japanese needs
# its other two (the public host refuses to start on a page half in Japanese), so the installer
# asks for them here, by name, instead of leaving a host that will not start. The balancer's
# page for when no public host is healthy is in the same three languages.
TRANSLATED = ("MUNICIPALITY_NAME", "CONTACT", "HOURS", "UPDATE_SCHEDULE")
LANGUAGES = {"EN": "英語", "EASY": "やさしい日本語（{漢字|かんじ} でふりがな）"}
for _base in TRANSLATED:
    for _suffix, _language in LANGUAGES.items():
        VALUES.append(Value(f"{_base}_{_suffix}", ("public", "balancer"),
                            f"{_base} の{_language}の文（{_base} を入れたときは必須）", ""))

BY_NAME = {value.name: value for value in VALUES}
LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def parse(path: Path) -> dict[str, tuple[str, int]]:
    """NAME=VALUE lines (shell-like: # comments, optional quotes) → {NAME: (value, line)}."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValuesError(f"{path}: サイト設定ファイルがありません。deploy/site.env.example を写して"
                          f"値を入れてください（--config で別の場所も指定できます）") from None
    except UnicodeDecodeError as error:
        raise ValuesError(f"{path}: UTF-8 で読めません（{error.start} バイト目）") from None
    found = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise ValuesError(f"{path}:{number}: 「名前=値」の形ではありません: {raw!r}")
        name, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        else:
            value = re.split(r"\s#", value, maxsplit=1)[0].strip()
        if name not in BY_NAME:
            raise ValuesError(f"{path}:{number}: {name} という値はありません"
                              f"（deploy/README.md の一覧を見てください）")
        found[name] = (value, number)
    return found


def load(path: Path, role: str) -> dict[str, str]:
    """The values for ``role``, every one present and well-formed, or ValuesError."""
    found = parse(path)
    values = {}
    for spec in VALUES:
        if role not in spec.roles:
            continue
        value, line = found.get(spec.name, ("", 0))
        if not value and spec.default is None:
            raise ValuesError(f"{path}: {spec.name} が設定されていません — {spec.meaning}")
        values[spec.name] = value or spec.default
        if not value and _untranslated(spec.name, found):
            raise ValuesError(f"{path}: {spec.name} が設定されていません — {spec.meaning}")
        problem = _check(spec.name, values[spec.name])
        if problem:
            where = f"{path}:{line}" if line else str(path)
            raise ValuesError(f"{where}: {spec.name} = {values[spec.name]!r} は使えません: {problem}")
    return values


def _untranslated(name: str, found: dict[str, tuple[str, int]]) -> bool:
    """``name`` is another language's text whose Japanese original is set."""
    base, _, suffix = name.rpartition("_")
    return suffix in LANGUAGES and base in TRANSLATED and bool(found.get(base, ("", 0))[0])


def addresses(text: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", text) if item]


def _check(name: str, value: str) -> str:
    if name == "MUNICIPALITY_CODE" and not re.fullmatch(r"\d{6}", value):
        return "6桁の数字（全国地方公共団体コード、検査数字を含む）で書いてください"
    if name == "ENVIRONMENT" and value not in ("prod", "test"):
        return "prod か test のどちらかです"
    if name in ("MANAGEMENT_ADDRESS", "PUBLIC_HOSTS", "STAFF_NETWORKS", "INTRANET_HOST",
                "UPLOAD_ADDRESS", "BALANCER_ADDRESSES", "STANDBY_HOST", "PRIMARY_HOST"):
        for item in addresses(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                return f"{item!r} は IP アドレスでもネットワーク（例 192.0.2.0/24）でもありません"
    if name in ("PUBLIC_HOSTS", "INTRANET_HOST", "UPLOAD_ADDRESS", "STANDBY_HOST",
                "PRIMARY_HOST") and any("/" in item for item in addresses(value)):
        return "ネットワークではなく、ホストのアドレスを書いてください"
    if name in ("STANDBY_HOST", "PRIMARY_HOST") and len(addresses(value)) > 1:
        return "アドレスは 1 つです（スタンバイは 1 台）"
    if name == "STANDBY_MODE" and value not in ("async", "sync"):
        return "async（非同期）か sync（同期）のどちらかです"
    if name == "STANDBY_FROM" and not value.startswith("/"):
        return "絶対パスで書いてください"
    if name == "BALANCER_ENGINE" and value not in ("haproxy", "nginx"):
        return "haproxy か nginx のどちらかです"
    if name in ("TLS_CERT", "TLS_KEY", "PUBLIC_HOSTS_CA") and not value.startswith("/"):
        return "絶対パスで書いてください"
    if name == "SERVER_NAME" and not re.fullmatch(r"[A-Za-z0-9.-]+", value):
        return "ホスト名（英数字・ピリオド・ハイフン）で書いてください"
    return ""
