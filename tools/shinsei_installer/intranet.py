"""The intranet host: staff app, PostgreSQL, the publication's three steps, keys, and what to
carry out.

The publication runs as three OS users (docs/security-review.md): the builder
(``shinsei-builder``: database role, lookup key), the signer (``shinsei-signer``: signing
key, no database, no network) and the pusher (``shinsei-pusher``: SSH client key and the
pinned host keys, the configured public hosts' addresses only). Each has its own key folder
and configuration; the spool between them has one folder per hand-over, owned by its writer,
group its one reader, setgid so the files carry that group."""

import re
import secrets
from pathlib import Path

from shinsei_installer import common, database, forward, render, replication, sshd
from shinsei_installer.common import ETC, VENV, Bundle
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Action, Directory, Existing, File, Note, User

BUILDER, SIGNER, PUSHER = "shinsei-builder", "shinsei-signer", "shinsei-pusher"
# Each step's keys, in a folder only it (and root) may enter.
BUILDER_KEYS, SIGNER_KEYS, PUSHER_KEYS = f"{ETC}/builder", f"{ETC}/signer", f"{ETC}/pusher"
PUSHER_TRUSTED = f"{PUSHER_KEYS}/trusted"
SPOOL = "/var/spool/shinsei/transfer"
# folder: (writer, its one reader)
HAND_OVERS = {"built": (BUILDER, SIGNER), "signed": (SIGNER, PUSHER), "results": (PUSHER, BUILDER)}
PUSH_ADDRESSES = "/etc/systemd/system/shinsei-transfer-push.service.d/addresses.conf"
CARRY = "/var/lib/shinsei/carry-to-public"
WAL = "/var/backups/shinsei/wal"
# Signed audit checkpoints: appended by the signer, read by the staff app, `audit verify`,
# the recorder and the pruner (0644 in a 0755 directory: signatures of hashes, no secret).
CHECKPOINTS = "/var/lib/shinsei-transfer/checkpoints"
CHECKPOINT_FILE = f"{CHECKPOINTS}/audit-checkpoints.jsonl"
# The signer's public keys those checkpoints are checked with (audit.checkpoint_keys): outside
# {SIGNER_KEYS}/, which only the signer may enter.
CHECKPOINT_KEYS = f"{ETC}/checkpoint-keys"
# Touched by the staff app on approval; shinsei-transfer-approved.path starts the job.
TRIGGER = "/var/lib/shinsei/publish-requested"
# Touched by the staff app on a request; shinsei-transfer-requested.path makes its table.
PREPARE = "/var/lib/shinsei/prepare-requested"
# shinsei-transfer.service is the publication run (build → sign → push, then record); the
# daily checkpoint timer starts it too (with nothing approved it only signs the audit head).
UNITS = ("shinsei-intranet-web.service", "shinsei-transfer.service",
         "shinsei-transfer-build.service", "shinsei-transfer-sign.service",
         "shinsei-transfer-push.service", "shinsei-transfer.timer",
         "shinsei-transfer-approved.path", "shinsei-transfer-prepare.service",
         "shinsei-transfer-requested.path", "shinsei-audit-checkpoint.timer",
         "shinsei-audit-prune.service", "shinsei-audit-prune.timer", "shinsei-nftables.service",
         "shinsei-backup.service", "shinsei-backup.timer")
APPS = ("shinsei-intranet-web.service",)
ENABLED = ("shinsei-nftables.service", "shinsei-intranet-web.service", "shinsei-transfer.timer",
           "shinsei-transfer-approved.path", "shinsei-transfer-requested.path",
           "shinsei-audit-checkpoint.timer",
           "shinsei-audit-prune.timer", "shinsei-backup.timer")
MIGRATION_URL = (f"postgresql+psycopg:///{database.DATABASE}?host=/run/postgresql"
                 f"&options=-c%20role%3D{database.OWNER}")

INTRANET_ENV = f"""\
# /etc/shinsei/intranet.env — read by systemd (EnvironmentFile=) for the staff app and
# nothing else; root only (0600). install.sh wrote it once and never overwrites it.
SHINSEI_SESSION_SECRET_FILE={ETC}/session-secret
"""


def plan(bundle: Bundle, host: Host, values: dict):
    values = render.derived(values)
    _check_host_keys(host, values.get("PUBLIC_HOST_KEYS", ""))
    steps = [User("shinsei-web"), User(BUILDER), User(SIGNER), User(PUSHER), User("shinsei-prune")]
    steps += common.venv_steps(bundle, "intranet",
                               ("shinsei-intranet", "shinsei-transfer"), ("intranet",))
    steps += [
        Directory(ETC),
        File(f"{ETC}/intranet.ini", render.render(bundle.deploy / "intranet.ini", values).encode(),
             keep=True),
        File(f"{ETC}/intranet.env", INTRANET_ENV.encode(), mode=0o600, keep=True),
        # Each step's own settings, readable by that step alone (and root).
        File(f"{ETC}/signer.ini", render.render(bundle.deploy / "signer.ini", values).encode(),
             "root", SIGNER, 0o640, keep=True),
        File(f"{ETC}/pusher.ini", render.render(bundle.deploy / "pusher.ini", values).encode(),
             "root", PUSHER, 0o640, keep=True),
        File(f"{ETC}/session-secret", lambda: secrets.token_urlsafe(48).encode() + b"\n",
             owner="shinsei-web", group="shinsei-web", mode=0o600, keep=True),
        Directory("/var/lib/shinsei"),
        Directory("/var/lib/shinsei/imports", "shinsei-web", "shinsei-web", 0o700),
        Directory("/var/lib/shinsei/audit-archive", "shinsei-prune", "shinsei-prune", 0o700),
        File(TRIGGER, b"", "shinsei-web", "shinsei-web", 0o644, keep=True),
        File(PREPARE, b"", "shinsei-web", "shinsei-web", 0o644, keep=True),
        Directory("/var/lib/shinsei-transfer", SIGNER, SIGNER, 0o755),
        Directory(CHECKPOINTS, SIGNER, SIGNER, 0o755),
        File(CHECKPOINT_FILE, b"", SIGNER, SIGNER, 0o644, keep=True),
        Directory("/var/spool/shinsei"),
        Directory(SPOOL),
        *[Directory(f"{SPOOL}/{folder}", writer, reader, 0o2750)
          for folder, (writer, reader) in HAND_OVERS.items()],
        # The pusher may reach the public hosts' addresses and nothing else.
        Directory(PUSH_ADDRESSES.rsplit("/", 1)[0]),
        File(PUSH_ADDRESSES, push_addresses(values).encode(), handlers=("daemon-reload",)),
    ]
    steps += key_steps(bundle, host, values)
    steps += settings_forward(bundle, values)
    steps.append(replication.DatabaseUrl(f"{ETC}/intranet.ini", values))
    steps += postgresql_steps(bundle, host, values)
    steps += common.nginx_steps(bundle, host, "intranet", values, replace_default=False)
    steps += common.logrotate_steps(bundle, host)
    steps += common.firewall_steps(bundle, "intranet-host.nft", values, host, PUSHER, BUILDER)
    steps += common.unit_steps(bundle, UNITS, ENABLED)
    return steps


KNOWN_HOSTS_LINE = re.compile(r"^\S+\s+(ssh-|ecdsa-|sk-)\S+\s+[A-Za-z0-9+/]+=*(\s|$)")


def _check_host_keys(host: Host, source: str) -> None:
    """The carried known_hosts lines, when the file is there: each "address key-type key".
    (A file named but absent is no error: see ``_known_hosts_steps``.)"""
    path = host.path(source) if source else None
    if path is None or not path.is_file():
        return
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if line.strip() and not line.startswith("#") and not KNOWN_HOSTS_LINE.match(line):
            raise InstallError(f"{source}:{number}: known_hosts の行ではありません: {line[:80]!r}")
    shared = shared_host_keys(path.read_text(errors="replace"))
    if shared:
        raise InstallError(shared_host_keys_message(source, shared))


def pinned_keys(text: str) -> dict[tuple[str, str], list[str]]:
    """{(key type, key): [addresses, in the file's order]} of known_hosts lines."""
    keys: dict[tuple[str, str], list[str]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.startswith("#"):
            address, kind, blob = fields[:3]
            found = keys.setdefault((kind, blob), [])
            found.extend(a for a in address.split(",") if a not in found)
    return keys


def shared_host_keys(text: str) -> dict[tuple[str, str], list[str]]:
    """The keys that more than one address presents: public hosts cloned from one template
    (a VM image carries /etc/ssh/ssh_host_* with it)."""
    return {key: addresses for key, addresses in pinned_keys(text).items() if len(addresses) > 1}


def shared_host_keys_message(source: str, shared: dict[tuple[str, str], list[str]]) -> str:
    """Refused without a way to go on regardless: the transfer job could no longer tell these
    hosts apart by their key (its record of which host received a snapshot would prove
    nothing), whoever holds one host's private key could stand in for the other, and the fix
    takes a minute on the clone. A setting to go on would stay in the values file and let the
    next clone through unsaid."""
    pairs = "\n".join(f"  {' と '.join(addresses)}（{kind} {sshd.fingerprint(f'{kind} {blob}')}）"
                      for (kind, blob), addresses in shared.items())
    return (f"PUBLIC_HOST_KEYS = {source}: 次の公開ホストが同じ SSH ホスト鍵を持っています。\n{pairs}\n"
            "同じテンプレートから複製した仮想マシンは、ホスト鍵まで同じになります。このままでは"
            "転送ジョブがどのホストへ送ったかを鍵で確かめられず、1 台の秘密鍵でほかのホストに"
            "なりすませるため、登録しません。\n"
            "複製した側のホストで（どちらか分からなければ両方で）、新しいホスト鍵を作ってください:\n"
            "  rm /etc/ssh/ssh_host_*\n  ssh-keygen -A\n"
            "  systemctl restart ssh      （RHEL 系では systemctl restart sshd）\n"
            "そのホストで ./install.sh --role public をもう一度実行し、表示される新しい 1 行を運んで"
            f" {source} を作り直してから、ここで install.sh をもう一度実行してください"
            "（docs/install.ja.md の 5.）。")


def push_addresses(values: dict) -> str:
    hosts = render.destination_hosts(values)
    return ("# Written by install.sh from PUBLIC_HOSTS: the addresses the pusher may reach.\n"
            "[Service]\n" + "".join(f"IPAddressAllow={host}\n" for host in hosts))


def key_steps(bundle, host, values):
    """Each step's keys in its own folder, readable by that step alone: the lookup key (the
    builder), the signing key (the signer), the SFTP client key and pinned host keys (the
    pusher, with the signer's public key to check what it sends); the public halves (and
    the lookup key) copied for the public hosts."""
    def missing_keys(host):
        return [] if host.path(f"{SIGNER_KEYS}/sign.key").exists() else [
            f"{SIGNER_KEYS}/sign.key, {BUILDER_KEYS}/lookup.key を作る（shinsei-transfer keygen）"]

    def keygen(host):
        # Made by root in the root-owned directories (0600), then handed to their step by
        # the steps below: no step's account ever needs to write there.
        host.run(host.path(f"{VENV}/bin/shinsei-transfer").as_posix(), "keygen",
                 "--signing-key", str(host.path(f"{SIGNER_KEYS}/sign.key")),
                 "--lookup-key", str(host.path(f"{BUILDER_KEYS}/lookup.key")))

    def missing_client_key(host):
        return [] if host.path(f"{PUSHER_KEYS}/id_ed25519").exists() else [
            f"{PUSHER_KEYS}/id_ed25519 を作る（公開ホストへの SFTP 用）"]

    def client_keygen(host):
        host.run(host.path(f"{VENV}/bin/python").as_posix(), "-c", CLIENT_KEYGEN,
                 str(host.path(f"{PUSHER_KEYS}/id_ed25519")))

    steps = [
        Directory(BUILDER_KEYS, "root", BUILDER, 0o750),
        Directory(SIGNER_KEYS, "root", SIGNER, 0o750),
        Directory(PUSHER_KEYS, "root", PUSHER, 0o750),
        Action("signing and lookup keys", missing_keys, keygen),
        Existing(f"{SIGNER_KEYS}/sign.key", SIGNER, SIGNER, 0o600),
        Existing(f"{SIGNER_KEYS}/sign.key.pub", "root", "root", 0o644),
        Existing(f"{BUILDER_KEYS}/lookup.key", BUILDER, BUILDER, 0o600),
        # What the pusher checks before sending: every *.pub in its trusted folder (a key
        # rotation adds the next key there, then replaces this one: docs/runbook).
        Directory(PUSHER_TRUSTED, "root", PUSHER, 0o750),
        CarriedFile(f"{PUSHER_TRUSTED}/intranet-sign.pub", f"{SIGNER_KEYS}/sign.key.pub",
                    mode=0o644),
        Action("SFTP client key", missing_client_key, client_keygen),
        Existing(f"{PUSHER_KEYS}/id_ed25519", PUSHER, PUSHER, 0o600),
        Existing(f"{PUSHER_KEYS}/id_ed25519.pub", "root", "root", 0o644),
        *_known_hosts_steps(host, values.get("PUBLIC_HOST_KEYS", "")),
        Directory(CHECKPOINT_KEYS, mode=0o755),
        CarriedFile(f"{CHECKPOINT_KEYS}/intranet-sign.pub", f"{SIGNER_KEYS}/sign.key.pub",
                    mode=0o644),
        Directory("/var/lib/shinsei"),
        Directory(CARRY, mode=0o700),
    ]
    steps += [CarriedFile(f"{CARRY}/{target}", source, mode=mode)
              for source, target, mode in (
                  (f"{SIGNER_KEYS}/sign.key.pub", "intranet-sign.pub", 0o644),
                  (f"{BUILDER_KEYS}/lookup.key", "lookup.key", 0o600),
                  (f"{PUSHER_KEYS}/id_ed25519.pub", "upload_ed25519.pub", 0o644))]
    return steps


def _known_hosts_steps(host: Host, source: str):
    """The pinned public-host keys: the carried file's lines when it is there; otherwise the
    file as it is (kept, never emptied), and a note saying so. On a fresh host being restored
    the values file still names the carried file, long gone: the backup set brings
    known_hosts back with /etc/shinsei."""
    known_hosts = f"{PUSHER_KEYS}/known_hosts"
    if source and host.path(source).is_file():
        return [File(known_hosts, lambda: host.path(source).read_bytes(), "root", PUSHER, 0o644)]
    kept = File(known_hosts, lambda: b"", "root", PUSHER, 0o644, keep=True)
    if not source:
        return [kept]

    def note(host):
        pinned = host.path(known_hosts)
        lines = [line for line in (pinned.read_text(errors="replace").splitlines()
                                   if pinned.exists() else []) if line.strip()]
        if lines:
            return (f"PUBLIC_HOST_KEYS = {source} がありません: {known_hosts} の公開ホストの鍵"
                    f"（{len(lines)} 行）をそのまま使います")
        return (f"PUBLIC_HOST_KEYS = {source} がありません: 公開ホストの鍵はまだ登録されていません"
                "（バックアップから戻すホストなら `shinsei-intranet backup restore` が戻します。"
                "初めて入れるホストなら、各公開ホストの "
                "/var/lib/shinsei/carry-to-intranet/known_hosts を運んでください）")

    return [kept, Note(note)]


class CarriedFile(File):
    """A copy of a file this install made (a key), for the administrators to carry."""

    def __init__(self, path, source, mode):
        super().__init__(path, mode=mode)
        self.source = source

    def differences(self, host):
        self.content = lambda: _read(host, self.source)
        return super().differences(host)

    def apply(self, host):
        self.content = lambda: _read(host, self.source)
        super().apply(host)


def _read(host, path):
    target = host.path(path)
    return target.read_bytes() if target.exists() else b""


# OpenSSH's own format, made with the venv's cryptography: no ssh-keygen needed here.
CLIENT_KEYGEN = """\
import os, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
key = Ed25519PrivateKey.generate()
path = sys.argv[1]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, key.private_bytes(s.Encoding.PEM, s.PrivateFormat.OpenSSH, s.NoEncryption()))
os.close(fd)
public = key.public_key().public_bytes(s.Encoding.OpenSSH, s.PublicFormat.OpenSSH)
open(path + ".pub", "wb").write(public + b" shinsei-pusher\\n")
"""


ROTATION = "鍵の更新で次の鍵をフォルダーに置くだけで使われるように"
# The backup.* settings an intranet.ini installed before backups were part of the product
# lacks: backup.host_files has no default, so its sets had no TLS certificate and key.
BACKUP_SETTINGS = ("backup.directory", "backup.retention_days", "backup.max_age_hours",
                   "backup.database_user", "backup.config_directory", "backup.host_files",
                   "backup.web_service", "backup.verify_user")


def settings_forward(bundle, values):
    """The ini files an earlier bundle wrote, brought to the shape this version's runbook
    relies on (forward.py): after the key steps, which fill the folders compared here."""
    return [
        forward.BringForward(
            f"{ETC}/signer.ini", "shinsei-transfer", bundle.deploy / "signer.ini", values,
            renamed=(forward.Renamed(
                "transfer.signing_keys", f"{SIGNER_KEYS}/sign.key", SIGNER_KEYS,
                f"署名係がフォルダーの *.key すべてで署名し、{ROTATION}",
                forward.only_file_in(SIGNER_KEYS, "sign.key", "*.key")),)),
        forward.BringForward(
            f"{ETC}/pusher.ini", "shinsei-transfer", bundle.deploy / "pusher.ini", values,
            renamed=(forward.Renamed(
                "transfer.public_keys", f"{PUSHER_KEYS}/sign.key.pub", PUSHER_TRUSTED,
                f"転送係がフォルダーの *.pub すべてを信頼し、{ROTATION}",
                forward.same_public_key(f"{PUSHER_KEYS}/sign.key.pub", PUSHER_TRUSTED,
                                        f"{SIGNER_KEYS}/sign.key.pub")),)),
        forward.BringForward(
            f"{ETC}/intranet.ini", "app:main", bundle.deploy / "intranet.ini", values,
            added=(*(forward.Added(key, "毎日のバックアップにサイト設定ファイルの TLS_CERT・TLS_KEY も"
                                         "入れるため（運用手順書「バックアップと復元」）")
                     for key in BACKUP_SETTINGS),
                   forward.Added("transfer.destinations", "転送係の報告を、設定された公開"
                                 "サーバーについてだけ記録するため"),
                   forward.Added("transfer.origin", "発行元（団体コード:環境）を署名係・"
                                 "転送係の設定と同じ一つの書き方で読むため"),
                   forward.Added("shinsei.database_passfiles", "スタンバイを置いたとき、もう 1 台の"
                                 "庁内ホストのデータベースへ各 OS ユーザーのパスワードでつなぐため"),
                   forward.Added("publication.prepare_file", "公開の依頼のたびに、承認を待つ間に"
                                 "公開する表を作っておき、承認から公開までを短くするため")),
            handlers=("apps",)),
    ]


def postgresql_steps(bundle, host, values):
    if host.uid("postgres") is None:
        if host.live:
            raise InstallError("PostgreSQL がありません: OS のパッケージ（Debian 12: postgresql、"
                               "RHEL 9 系: postgresql-server）を先に入れてください")
        return [Action("PostgreSQL", lambda h: [], lambda h: None, live_only=True)]
    return [
        *server_steps(bundle, host, values),
        Action("database", lambda h: _database_differences(h, bundle.venv("intranet")),
               lambda h: _database(h, bundle.venv("intranet")), live_only=True),
        *primary_steps(values),
    ]


def server_steps(bundle, host, values):
    """The server's settings, the WAL archive and its pg_hba.conf lines: the same on the
    primary and on the standby (either may be the primary after a promotion)."""
    streaming = _standby_streaming(host, values)
    conf = render.render(bundle.deploy / "postgresql" / "shinsei.conf",
                         replication.conf_values(values, streaming)).encode()
    hba = (bundle.deploy / "postgresql" / "pg_hba.conf.snippet").read_text()
    hba += "".join(f"{line}\n" for line in replication.hba_lines(values))
    return [
        Directory("/var/backups/shinsei"),
        Directory(WAL, "postgres", "postgres", 0o700),
        Action("postgresql.conf", lambda h: _conf_differences(h, conf),
               lambda h: _write_conf(h, conf), live_only=True, handlers=("postgresql",)),
        Action("pg_hba.conf", lambda h: _hba_differences(h, hba),
               lambda h: _write_hba(h, hba), live_only=True, handlers=("postgresql",)),
        Note(lambda h: replication.not_yet_synchronous(values, streaming)),
    ]


def _standby_streaming(host, values) -> bool:
    """The standby receives from this server now (read once, when the plan is made)."""
    if values.get("STANDBY_MODE") != "sync" or not host.live:
        return False
    try:
        return bool(_psql(host, replication.STREAMING_SQL))
    except InstallError:          # PostgreSQL not running yet: no standby receives either
        return False


def primary_steps(values):
    """With a standby: the database's certificate, each connecting role's password (a
    passfile its OS user alone reads), the replication role and slot, and what to carry to
    the standby (docs/install.*.md「データベースのスタンバイ」)."""
    drop_ins = []
    for unit in replication.BUILDER_UNITS:
        folder = f"/etc/systemd/system/{unit}.d"
        drop_ins += [Directory(folder), File(f"{folder}/standby.conf",
                                             replication.builder_drop_in(values).encode(),
                                             handlers=("daemon-reload",))]
    if not replication.peer(values):
        return drop_ins

    def missing_certificate(host):
        return [] if host.path(replication.CERT).exists() else [
            f"{replication.CERT}, {replication.KEY} を作る（データベースの TLS）"]

    def make_certificate(host):
        host.run(host.path(f"{VENV}/bin/python").as_posix(), "-c", replication.CERT_KEYGEN,
                 str(host.path(replication.CERT)), str(host.path(replication.KEY)))

    steps = [
        *drop_ins,
        Directory(replication.FOLDER, "root", "postgres", 0o755),
        Action("database certificate", missing_certificate, make_certificate),
        Existing(replication.CERT, "root", "root", 0o644),
        Existing(replication.KEY, "postgres", "postgres", 0o600),
        *[File(replication.passfile(role), lambda role=role: replication.new_password(role),
               user, user, 0o600, keep=True) for role, user in replication.CONNECTING.items()],
        Action("replication role", lambda h: replication.password_differences(h, _psql),
               lambda h: replication.set_passwords(h, _psql), live_only=True),
        Directory("/var/lib/shinsei"),
        Directory(replication.CARRY, mode=0o700),
    ]
    steps += [CarriedFile(f"{replication.CARRY}/{name}", f"{replication.FOLDER}/{name}",
                          mode=0o644 if name.endswith(".crt") else 0o600)
              for name in replication.CARRIED]
    return steps


def _psql(host, sql, database="postgres"):
    return host.run("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database,
                    "-c", sql, user="postgres").stdout.strip()


def _setting(host, name):
    return _psql(host, f"SHOW {name}")


def _conf_file(host):
    return Path(_setting(host, "config_file")).parent / "conf.d" / "shinsei.conf"


def _conf_differences(host, conf):
    path = _conf_file(host)
    return [] if path.exists() and path.read_bytes() == conf else [f"{path} を書く"]


def _write_conf(host, conf):
    path = _conf_file(host)
    main = path.parent.parent / "postgresql.conf"
    text = main.read_text()
    # Debian's postgresql.conf already reads conf.d/; RHEL's does not.
    if not any(line.strip().startswith("include_dir") and "conf.d" in line
               for line in text.splitlines()):
        main.write_text(text + "\n# shinsei-status\ninclude_dir = 'conf.d'\n")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(conf)
    host.run("chown", "-R", "postgres:postgres", str(path.parent))


HBA_BEGIN, HBA_END = "# shinsei-status begin", "# shinsei-status end"


def _hba_block(hba):
    lines = [line for line in hba.splitlines() if line and not line.startswith("#")]
    return "\n".join([HBA_BEGIN, *lines, HBA_END])


def _hba_differences(host, hba):
    path = Path(_setting(host, "hba_file"))
    return [] if _hba_block(hba) in path.read_text() else [f"{path}: shinsei の行を先頭に入れる"]


def _write_hba(host, hba):
    """Our block first (the first matching line wins), the rest as it was."""
    path = Path(_setting(host, "hba_file"))
    text = path.read_text()
    if HBA_BEGIN in text:
        before, _, rest = text.partition(HBA_BEGIN)
        text = before + rest.partition(HBA_END)[2].lstrip("\n")
    path.write_text(_hba_block(hba) + "\n" + text)
    _psql(host, "SELECT pg_reload_conf()")


def _head_revision(host, venv):
    """The newest migration of this bundle's version (its own venv: before an upgrade has
    switched, /opt/shinsei/venv still holds the old one); None before that venv exists."""
    if not host.path(f"{venv}/bin/python").exists():
        return None
    return host.run(host.path(f"{venv}/bin/python").as_posix(), "-c",
                    "from alembic.script import ScriptDirectory as S\n"
                    "from intranet.migrations import alembic_config as c\n"
                    "print(S.from_config(c('sqlite://')).get_current_head())").stdout.strip()


def _database_differences(host, venv):
    out = []
    have = _psql(host, f"SELECT rolname FROM pg_roles WHERE rolname IN "
                       f"('{database.OWNER}', {', '.join(repr(r) for r in database.ROLES)})")
    missing = sorted({database.OWNER, *database.ROLES} - set(have.split()))
    out += [f"データベース: ロール {role} を作る" for role in missing]
    if not _psql(host, f"SELECT 1 FROM pg_database WHERE datname = '{database.DATABASE}'"):
        return [*out, f"データベース {database.DATABASE} を作り、スキーマを最新にする"]
    revision, head = _revision(host), _head_revision(host, venv)
    if head is None:
        return [*out, f"データベース: スキーマ（今は {revision or 'なし'}）を {venv} の版の"
                      "最新にする（venv ができてから）"]
    if revision != head:
        return [*out, f"データベース: スキーマを {revision or 'なし'} から {head} にする"]
    tables = _psql(host, "SELECT relname FROM pg_class WHERE relnamespace = "
                         "'public'::regnamespace AND relkind = 'r'", database.DATABASE).split()
    actual = set(_psql(host, database.privileges_query(), database.DATABASE).splitlines())
    return out + database.grant_differences(actual, tables)


def _revision(host):
    if not _psql(host, "SELECT to_regclass('alembic_version')", database.DATABASE):
        return ""
    return _psql(host, "SELECT version_num FROM alembic_version", database.DATABASE)


def _database(host, venv):
    _psql(host, database.roles_sql())
    if not _psql(host, f"SELECT 1 FROM pg_database WHERE datname = '{database.DATABASE}'"):
        _psql(host, database.create_database_sql())
    if _revision(host) != _head_revision(host, venv):
        _migrate(host, venv)
    _psql(host, database.grants_sql(), database.DATABASE)


def _migrate(host, venv):
    """Migrations as the owner (the superuser only sets the role); an upgrade is audited."""
    host.run(host.path(f"{venv}/bin/shinsei-intranet").as_posix(), "-c", f"{ETC}/intranet.ini",
             "initdb", user="postgres", env={"SHINSEI_DATABASE_URL": MIGRATION_URL})


def afterwards(host: Host) -> str:
    pinned = host.path(f"{PUSHER_KEYS}/known_hosts")
    if pinned.exists() and pinned.read_text().strip():
        # Each host's fingerprint, to compare with what that host's installer printed.
        listed = "\n".join(f"  {', '.join(addresses)}: {kind} {sshd.fingerprint(f'{kind} {blob}')}"
                           for (kind, blob), addresses in pinned_keys(pinned.read_text()).items())
        return ("公開ホストの鍵は登録済みです（各公開ホストの install.sh が表示した指紋と同じであること）:\n"
                f"{listed}\n次: docs/install.ja.md の「初日のチェックリスト」")
    return (f"次に: {CARRY}/ の中身を各公開ホストへ運び（lookup.key は秘密です）、"
            "公開ホストで install.sh --role public を実行してください。")
