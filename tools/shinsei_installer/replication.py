"""The intranet's database with a streaming standby (issue 29): a second intranet host keeps a
copy of the primary's PostgreSQL, received as the primary writes it, and takes over when the
primary is gone (docs/runbook.*.md「データベースのスタンバイ」).

- On the primary (``--role intranet`` with ``STANDBY_HOST``): a replication role that can do
  nothing but replicate, reachable from the standby's address alone, over TLS, with a
  SCRAM password; a physical replication slot (the primary keeps the WAL the standby has
  not received); ``synchronous_standby_names`` when the city chose ``STANDBY_MODE=sync``.
- On the standby (``--role intranet-standby`` with ``PRIMARY_HOST``): the cluster replaced
  by ``pg_basebackup -R`` with that slot, TLS to the primary, its certificate pinned.
- Both hosts: TLS with one certificate the primary made (either may be the primary after a
  promotion, so each trusts the one the other presents), the staff app's and the
  builder's roles reachable from the other host with their own passwords (the multi-host
  connection string), the WAL archive as without a standby.

Passwords never appear on a command line or in a log: each is a file (libpq's passfile
format) owned by the OS user that connects with it, and the server is given only its SCRAM
verifier, computed here.
"""

import base64
import hashlib
import hmac
import os
import re
import secrets
import time

from shinsei_installer import database, forward
from shinsei_installer.common import ETC
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Step

REPLICATION = "shinsei_replication"
SLOT = "shinsei_standby"
# The standby's name as the primary sees it (pg_stat_replication.application_name), the one
# synchronous_standby_names waits for; both hosts use it, whichever is the standby.
APPLICATION = "shinsei_standby"
PORT = "5432"
FOLDER = f"{ETC}/database"
CERT, KEY = f"{FOLDER}/server.crt", f"{FOLDER}/server.key"
CARRY = "/var/lib/shinsei/carry-to-standby"
# What the standby host needs from the primary: the certificate, its key (it presents them
# once promoted) and the replication role's password. Nothing else of the primary's.
CARRIED = ("server.crt", "server.key", f"{REPLICATION}.pgpass")
# database role -> the OS user that connects as it from the other host (its passfile's
# owner): the staff app, and the publication's builder and recorder (one account; their
# units reach the other host's address alone: BUILDER_UNITS). The monthly pruner keeps no
# network and runs where the primary is.
CONNECTING = {REPLICATION: "postgres", database.WEB: database.WEB,
              database.TRANSFER: database.TRANSFER}
# The builder's units (the build, the request's preparation) and the recorder's: no network
# but the other intranet host, with a standby.
BUILDER_UNITS = ("shinsei-transfer-build.service", "shinsei-transfer-prepare.service",
                 "shinsei-transfer.service")
SCRAM_ITERATIONS = 4096


def passfile(role: str, folder: str = FOLDER) -> str:
    return f"{folder}/{role}.pgpass"


def peer(values: dict) -> str:
    """The other intranet host's address: the standby on the primary, the primary on the
    standby; "" without a standby."""
    return values.get("STANDBY_HOST") or values.get("PRIMARY_HOST") or ""


def conf_values(values: dict, standby_streaming: bool = True) -> dict[str, str]:
    """deploy/postgresql/shinsei.conf's placeholders for this host. Synchronous only once the
    standby receives (``standby_streaming``): before that every commit would wait for it,
    the installer's own included (the next run of install.sh switches it on)."""
    other = peer(values)
    if not other:
        return {**values, "PG_LISTEN": "''",
                "PG_STANDBY": "# (no standby: STANDBY_HOST is empty, local connections only)"}
    wanted = values.get("STANDBY_MODE") == "sync"
    synchronous = APPLICATION if wanted and standby_streaming else ""
    lines = ["ssl = on", f"ssl_cert_file = '{CERT}'", f"ssl_key_file = '{KEY}'",
             "ssl_min_protocol_version = 'TLSv1.2'",
             # sync: a commit returns once the standby has it (nothing confirmed is lost when
             # the primary is gone); async (''): it returns at once, the last seconds may be.
             f"synchronous_standby_names = '{synchronous}'"]
    # The nftables rules let only the other host reach 5432; pg_hba.conf accepts only it.
    return {**values, "PG_LISTEN": "'*'", "PG_STANDBY": "\n".join(lines)}


def not_yet_synchronous(values: dict, standby_streaming: bool) -> str | None:
    if values.get("STANDBY_MODE") != "sync" or standby_streaming:
        return None
    return ("STANDBY_MODE=sync: スタンバイがまだ受け取っていないため、今は非同期です。"
            "スタンバイを入れたあとで install.sh --role intranet をもう一度実行すると同期になります")


STREAMING_SQL = ("SELECT 1 FROM pg_stat_replication WHERE application_name = "
                 f"'{APPLICATION}' AND state = 'streaming'")


def hba_lines(values: dict) -> list[str]:
    """The other host's lines: TLS and a password, the replication role for replication only,
    the staff app's and builder's roles for the shinsei database only; anything else from
    there refused."""
    other = peer(values)
    if not other:
        return []
    network = f"{other}/{128 if ':' in other else 32}"
    apps = ",".join(role for role in CONNECTING if role != REPLICATION)
    return [f"hostssl replication {REPLICATION} {network} scram-sha-256",
            f"hostssl {database.DATABASE} {apps} {network} scram-sha-256",
            # "all" does not cover replication connections: each is refused by name.
            f"host all all {network} reject", f"host replication all {network} reject"]


def database_url(values: dict) -> str:
    """sqlalchemy.url: the local socket alone, or (with a standby) the local socket and the
    other host, whichever accepts writes (libpq tries them in order and skips a standby),
    TLS to the other host with the pinned certificate. After a promotion the apps' next
    connection finds the new primary by itself (their pools ping before use)."""
    base = f"postgresql+psycopg:///{database.DATABASE}?host=/run/postgresql"
    other = peer(values)
    if not other:
        return base
    # SQLAlchemy's "host=h1,h2&port=p1,p2" form: its other one ("host=h1:p1&host=h2:p2")
    # splits an IPv6 address at its colons.
    return (f"{base},{other}&port={PORT},{PORT}&target_session_attrs=read-write"
            f"&sslmode=verify-ca&sslrootcert={CERT}")


def builder_drop_in(values: dict) -> str:
    """The builder's and recorder's units keep IPAddressDeny=any and gain the other intranet
    host alone (no standby: no network at all, as the units say)."""
    other = peer(values)
    if not other:
        return "# No standby (STANDBY_HOST is empty): the unit's own settings, no network.\n"
    return ("# Written by install.sh from STANDBY_HOST: the other intranet host's PostgreSQL.\n"
            "[Service]\nPrivateNetwork=no\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
            f"IPAddressAllow={other}\n")


def conninfo(primary: str, port: str = PORT, folder: str = FOLDER) -> str:
    """What the standby connects to the primary with (pg_basebackup, then primary_conninfo):
    TLS with the primary's certificate pinned, the replication role's passfile."""
    return (f"host={primary} port={port} user={REPLICATION} "
            f"passfile={passfile(REPLICATION, folder)} sslmode=verify-ca "
            f"sslrootcert={folder}/server.crt application_name={APPLICATION}")


def new_password(role: str) -> bytes:
    return f"*:*:*:{role}:{secrets.token_urlsafe(32)}\n".encode()


def password_of(host: Host, role: str) -> str:
    """The password in the role's passfile ("" before the file is written)."""
    path = host.path(passfile(role))
    return path.read_text().strip().rsplit(":", 1)[1] if path.exists() else ""


def scram_verifier(password: str, salt: bytes | None = None,
                   iterations: int = SCRAM_ITERATIONS) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802, RFC 7677): the server
    is given this, never the password."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
            f"{b64(hashlib.sha256(client_key).digest()).decode()}:{b64(server_key).decode()}")


def verifies(stored: str, password: str) -> bool:
    """``stored`` (pg_authid.rolpassword) is the verifier of ``password``."""
    if not stored or not password:
        return False
    try:
        method, rest = stored.split("$", 1)
        head, _keys = rest.split("$", 1)
        iterations, salt = head.split(":", 1)
        wanted = scram_verifier(password, base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return method == "SCRAM-SHA-256" and hmac.compare_digest(wanted, stored)


def role_sql(role: str, verifier: str) -> str:
    """The replication role: it may log in and replicate, nothing else (no superuser, no
    database of its own, no privilege on any table: CONNECT on shinsei is revoked from
    PUBLIC, and pg_hba.conf lets it in for replication only). A few connections at most."""
    return ("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"'{role}') THEN CREATE ROLE {role}; END IF; END $$;\n"
            f"ALTER ROLE {role} WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"NOINHERIT NOBYPASSRLS CONNECTION LIMIT 3 PASSWORD '{verifier}';")


def password_sql(role: str, verifier: str) -> str:
    return f"ALTER ROLE {database.quote(role)} PASSWORD '{verifier}';"


SLOT_SQL = (f"SELECT pg_create_physical_replication_slot('{SLOT}') WHERE NOT EXISTS "
            f"(SELECT FROM pg_replication_slots WHERE slot_name = '{SLOT}');")


# The database's certificate, made once on the primary with the venv's cryptography (ECDSA
# P-256, ten years) and carried to the standby with its key: the standby pins it
# (sslmode=verify-ca, sslrootcert=it), so no name or public CA is involved.
CERT_KEYGEN = """\
import datetime, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shinsei-database")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
cert_path, key_path = sys.argv[1], sys.argv[2]
fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
os.close(fd)
open(cert_path, "wb").write(cert.public_bytes(s.Encoding.PEM))
"""


def stored_passwords(host: Host, psql) -> dict[str, str]:
    """role -> its stored verifier ('' when none), for the roles that connect from the peer."""
    names = ", ".join(f"'{role}'" for role in CONNECTING)
    rows = psql(host, "SELECT rolname || ' ' || coalesce(rolpassword, '') FROM pg_authid "
                      f"WHERE rolname IN ({names})")
    pairs = (line.partition(" ") for line in rows.splitlines() if line)
    return {role: verifier for role, _, verifier in pairs}


def password_differences(host: Host, psql) -> list[str]:
    stored = stored_passwords(host, psql)
    out = []
    if REPLICATION not in stored:
        out.append(f"データベース: 複製用のロール {REPLICATION} を作る"
                   "（複製だけができ、ほかは何もできません）")
    for role in CONNECTING:
        if role in stored and not verifies(stored[role], password_of(host, role)):
            out.append(f"データベース: {role} のパスワード（{passfile(role)}）を設定する")
    if not psql(host, f"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{SLOT}'"):
        out.append(f"データベース: 複製スロット {SLOT} を作る（スタンバイが受け取るまで WAL を残します）")
    return out


def set_passwords(host: Host, psql) -> None:
    stored = stored_passwords(host, psql)
    if REPLICATION not in stored or not verifies(stored[REPLICATION],
                                                 password_of(host, REPLICATION)):
        psql(host, role_sql(REPLICATION, scram_verifier(password_of(host, REPLICATION))))
    for role in CONNECTING:
        if role != REPLICATION and not verifies(stored.get(role, ""), password_of(host, role)):
            psql(host, password_sql(role, scram_verifier(password_of(host, role))))
    psql(host, SLOT_SQL)


def standby_differences(host: Host, psql, primary: str) -> list[str]:
    """Nothing when this cluster already follows ``primary``; the base backup when it is an
    empty, freshly installed one; a refusal when it holds the intranet's database as a
    primary (replacing it would throw that away: the runbook says how to rejoin)."""
    if psql(host, "SELECT pg_is_in_recovery()") == "t":
        following = psql(host, "SHOW primary_conninfo")
        return [] if f"host={primary} " in following else [
            f"PostgreSQL: スタンバイが {primary} ではなく次に従っています: {following}"]
    if psql(host, f"SELECT 1 FROM pg_database WHERE datname = '{database.DATABASE}'"):
        raise InstallError(
            f"このホストの PostgreSQL は {database.DATABASE} データベースを持つ主（プライマリ）です。"
            "スタンバイにすると中身を置き換えるため、install.sh は行いません。昇格のあとで元の主を"
            "スタンバイに戻すときは、運用手順書「元の主をスタンバイとして戻す」に従ってください")
    return [f"PostgreSQL: 空のクラスターを主 {primary} の pg_basebackup で置き換え、"
            "スタンバイとして起動する"]


def make_standby(host: Host, psql, primary: str) -> None:
    data = psql(host, "SHOW data_directory")
    unit = server_unit(psql(host, "SHOW cluster_name"))
    host.run("systemctl", "stop", unit)
    wait_stopped(host, data)
    # An empty cluster the distribution made (standby_differences checked): emptied, kept.
    host.run("find", data, "-mindepth", "1", "-delete")
    host.run("pg_basebackup", "-d", conninfo(primary), "-D", data, "-R", "-S", SLOT,
             "-X", "stream", "-c", "fast", user="postgres")
    host.run("systemctl", "start", unit)


def server_unit(cluster_name: str) -> str:
    """The cluster's own unit (Debian: postgresql@15-main), else the distribution's one.
    Stopping Debian's umbrella unit ``postgresql`` returns before its cluster has stopped
    (seen on a booted host: the data directory emptied under a server still shutting down)."""
    return (f"postgresql@{cluster_name.replace('/', '-')}"
            if re.fullmatch(r"\d+/[A-Za-z0-9_.-]+", cluster_name) else "postgresql")


def wait_stopped(host: Host, data: str, timeout: float = 120.0) -> None:
    """Until the server has let go of its data directory (postmaster.pid gone)."""
    deadline = time.monotonic() + timeout
    while host.path(f"{data}/postmaster.pid").exists():
        if time.monotonic() > deadline:
            raise InstallError(f"PostgreSQL が {timeout:.0f} 秒たっても止まりません（{data}/"
                               "postmaster.pid が残っています）: スタンバイにできません")
        time.sleep(0.5)


class DatabaseUrl(Step):
    """intranet.ini's sqlalchemy.url follows STANDBY_HOST on a host installed earlier (the
    file is never rewritten whole): a URL of the shape install.sh writes is replaced, the
    file kept beside it; one the city wrote itself is left, and said."""
    handlers = ("apps",)

    def __init__(self, path: str, values: dict):
        self.path, self.wanted = path, database_url(values)

    def _current(self, host: Host) -> tuple[int, str] | None:
        target = host.path(self.path)
        if not target.exists():
            return None
        return forward.read_settings(target.read_text(encoding="utf-8"),
                                     "app:main").get("sqlalchemy.url")

    def _ours(self, value: str) -> bool:
        return value.startswith(database_url({}))

    def differences(self, host):
        current = self._current(host)
        if current is None or current[1] == self.wanted or not self._ours(current[1]):
            return []
        return [f"{self.path}: sqlalchemy.url を {self.wanted} にする（STANDBY_HOST）"]

    def unresolved(self, host):
        current = self._current(host)
        if current is None or current[1] == self.wanted or self._ours(current[1]):
            return []
        return [f"{self.path}: sqlalchemy.url は自治体で書き換えたもののため変えません。"
                f"STANDBY_HOST に合わせるなら {self.wanted} にしてください"]

    def apply(self, host):
        current = self._current(host)
        if current is None:
            return
        forward.keep_copy(host, self.path)
        target = host.path(self.path)
        lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[current[0]] = f"sqlalchemy.url = {self.wanted}\n"
        forward._replace(target, "".join(lines))
