"""``install.sh --role intranet-standby``: the second intranet host's PostgreSQL, a streaming
standby of the primary (replication.py). It holds the database's certificate and key and the
replication role's password, carried from the primary's /var/lib/shinsei/carry-to-standby
(``STANDBY_FROM``), and nothing else of the primary's: no signing, lookup or SSH key."""

from shinsei_installer import common, intranet, render, replication
from shinsei_installer.common import ETC, Bundle
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Action, Directory, File, Step

APPS: tuple[str, ...] = ()
UNITS = ("shinsei-nftables.service",)


def plan(bundle: Bundle, host: Host, values: dict):
    values = render.derived(values)
    if host.uid("postgres") is None and host.live:
        raise InstallError("PostgreSQL がありません: OS のパッケージ（Debian 12: postgresql）を"
                           "先に入れてください")
    primary = values["PRIMARY_HOST"]
    steps: list[Step] = [Directory(ETC), Directory(replication.FOLDER, "root", "postgres", 0o755)]
    steps += [carried(host, values["STANDBY_FROM"], name) for name in replication.CARRIED]
    if host.uid("postgres") is not None:
        steps += intranet.server_steps(bundle, host, values)
        steps.append(Action("standby",
                            lambda h: replication.standby_differences(h, intranet._psql, primary),
                            lambda h: replication.make_standby(h, intranet._psql, primary),
                            live_only=True))
    steps += common.firewall_steps(bundle, "intranet-standby.nft", values)
    steps += common.unit_steps(bundle, UNITS, UNITS)
    return steps


def carried(host: Host, folder: str, name: str) -> File:
    """One file of the carried folder in its place: the key and password for postgres alone."""
    source = host.path(f"{folder}/{name}")
    if not source.is_file():
        raise InstallError(f"STANDBY_FROM = {folder}: {name} がありません（主で install.sh "
                           f"--role intranet を STANDBY_HOST つきで実行し、{replication.CARRY}/ "
                           "を運んでください）")
    public = name.endswith(".crt")
    return File(f"{replication.FOLDER}/{name}", lambda: source.read_bytes(),
                "root" if public else "postgres", "root" if public else "postgres",
                0o644 if public else 0o600)


def afterwards(host: Host) -> str:
    return ("スタンバイです。主で `SELECT application_name, state, sync_state FROM "
            "pg_stat_replication` が streaming を示すことを確かめてください"
            "（docs/install.ja.md「データベースのスタンバイ」）。")
