"""The standby's values and what the installer derives from them: each wrong value is refused
by name and line; the staff app's multi-host URL, the pg_hba.conf lines and the server's
settings follow the values file, and nothing of the standby appears without STANDBY_HOST."""

import pytest
from shinsei_installer import __main__ as installer
from shinsei_installer import render, replication, standby, values
from shinsei_installer.host import Host, InstallError
from sqlalchemy.engine import make_url

from lab.deploy_sites import DEPLOY
from tests.unit.installer.test_host_keys import INTRANET_VALUES

# The primary's values, as for any intranet host.
PRIMARY_VALUES = INTRANET_VALUES
STANDBY_VALUES = """\
MANAGEMENT_ADDRESS=192.0.2.10
PRIMARY_HOST=10.0.0.1
STANDBY_FROM=/root/carry-to-standby
"""


def load(tmp_path, text, role="intranet"):
    path = tmp_path / "site.env"
    path.write_text(text, encoding="utf-8")
    return values.load(path, role)


@pytest.mark.parametrize(("line", "said"), [
    ("STANDBY_MODE=synchronous", "STANDBY_MODE = 'synchronous' は使えません: async（非同期）か sync"),
    ("STANDBY_HOST=10.0.0.0/24", "ネットワークではなく、ホストのアドレス"),
    ("STANDBY_HOST=10.0.0.2 10.0.0.3", "アドレスは 1 つです"),
    ("STANDBY_HOST=standby.example", "IP アドレスでもネットワーク"),
])
def test_a_wrong_standby_value_is_named_with_its_line(tmp_path, line, said):
    with pytest.raises(values.ValuesError) as error:
        load(tmp_path, PRIMARY_VALUES + line + "\n")
    assert said in str(error.value)
    assert f"site.env:{PRIMARY_VALUES.count(chr(10)) + 1}:" in str(error.value)


def test_the_standby_needs_its_primary_and_the_carried_folder(tmp_path):
    with pytest.raises(values.ValuesError, match="PRIMARY_HOST が設定されていません — 主"):
        load(tmp_path, "MANAGEMENT_ADDRESS=192.0.2.10\nSTANDBY_FROM=/root/x\n", "intranet-standby")
    with pytest.raises(values.ValuesError, match="STANDBY_FROM = 'carry' は使えません: 絶対パス"):
        load(tmp_path, "MANAGEMENT_ADDRESS=192.0.2.10\nPRIMARY_HOST=10.0.0.1\n"
                       "STANDBY_FROM=carry\n", "intranet-standby")


def test_without_a_standby_nothing_changes(tmp_path):
    found = load(tmp_path, PRIMARY_VALUES)
    assert found["STANDBY_HOST"] == "" and found["STANDBY_MODE"] == "async"
    assert render.derived(found)["DATABASE_URL"] == \
        "postgresql+psycopg:///shinsei?host=/run/postgresql"
    assert replication.hba_lines(found) == []
    assert replication.conf_values(found)["PG_LISTEN"] == "''"
    rules = render.render(DEPLOY / "nftables" / "intranet-host.nft", render.derived(found))
    assert "5432" not in rules


def test_with_a_standby_the_staff_app_finds_whichever_host_accepts_writes(tmp_path):
    found = load(tmp_path, PRIMARY_VALUES + "STANDBY_HOST=10.0.0.2\n")
    url = make_url(render.derived(found)["DATABASE_URL"])
    _, connect = url.get_dialect()().create_connect_args(url)
    assert connect["host"] == "/run/postgresql,10.0.0.2"
    assert connect["port"] == "5432,5432"
    assert connect["target_session_attrs"] == "read-write"
    assert connect["sslmode"] == "verify-ca" and connect["sslrootcert"] == replication.CERT
    ipv6 = make_url(replication.database_url({"STANDBY_HOST": "2001:db8::2"}))
    assert ipv6.get_dialect()().create_connect_args(ipv6)[1]["host"] == \
        "/run/postgresql,2001:db8::2"


def test_the_standby_alone_may_replicate_and_only_over_tls(tmp_path):
    found = load(tmp_path, PRIMARY_VALUES + "STANDBY_HOST=10.0.0.2\n")
    assert replication.hba_lines(found) == [
        "hostssl replication shinsei_replication 10.0.0.2/32 scram-sha-256",
        "hostssl shinsei shinsei-web,shinsei-builder 10.0.0.2/32 scram-sha-256",
        "host all all 10.0.0.2/32 reject", "host replication all 10.0.0.2/32 reject"]
    assert replication.hba_lines({"PRIMARY_HOST": "2001:db8::1"})[0].endswith(
        "2001:db8::1/128 scram-sha-256")
    rules = render.render(DEPLOY / "nftables" / "intranet-host.nft", render.derived(found))
    assert "tcp dport 5432 ip saddr { 10.0.0.2 } accept" in rules


@pytest.mark.parametrize(("mode", "names"), [("async", "''"), ("sync", "'shinsei_standby'")])
def test_the_city_chooses_whether_a_commit_waits_for_the_standby(tmp_path, mode, names):
    found = load(tmp_path, PRIMARY_VALUES + f"STANDBY_HOST=10.0.0.2\nSTANDBY_MODE={mode}\n")
    conf = render.render(DEPLOY / "postgresql" / "shinsei.conf", replication.conf_values(found))
    assert f"synchronous_standby_names = {names}\n" in conf
    assert "listen_addresses = '*'" in conf and "ssl = on" in conf
    assert "archive_mode = on" in conf        # the WAL archive, as without a standby


def test_the_standby_never_waits_on_anyone(tmp_path):
    """Promoted, it is alone until the old primary returns: a synchronous setting would stop
    every commit."""
    found = load(tmp_path, STANDBY_VALUES, "intranet-standby")
    conf = render.render(DEPLOY / "postgresql" / "shinsei.conf", replication.conf_values(found))
    assert "synchronous_standby_names = ''\n" in conf


def test_a_password_is_given_to_the_server_only_as_its_verifier():
    verifier = replication.scram_verifier("correct horse")
    assert verifier.startswith("SCRAM-SHA-256$4096:") and "correct horse" not in verifier
    assert replication.verifies(verifier, "correct horse")
    assert not replication.verifies(verifier, "correct horsE")
    assert not replication.verifies("", "correct horse")
    assert not replication.verifies("md5abcdef", "correct horse")


def test_the_standby_install_names_a_carried_file_that_is_missing(tmp_path, capsys):
    root = tmp_path / "root"
    carried = root / "root/carry-to-standby"
    carried.mkdir(parents=True)
    (carried / "server.crt").write_text("x")
    with pytest.raises(InstallError, match=r"STANDBY_FROM = /root/carry-to-standby: server\.key "
                                           r"がありません"):
        standby.plan(None, Host(root), load(tmp_path, STANDBY_VALUES, "intranet-standby"))
    config = tmp_path / "site.env"
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "SHA256SUMS").write_text("")
    code = installer.main(["--role", "intranet-standby", "--config", str(config),
                           "--root", str(root), "--bundle", str(bundle)])
    assert code == 2 and "server.key がありません" in capsys.readouterr().err


def test_a_host_installed_without_a_standby_gets_the_multi_host_url(tmp_path):
    """intranet.ini is never rewritten whole: its one sqlalchemy.url line follows
    STANDBY_HOST when it is the installer's own, and a city's own URL is left and said."""
    host = Host(tmp_path)
    ini = tmp_path / "etc/shinsei/intranet.ini"
    ini.parent.mkdir(parents=True)
    earlier = ("[app:main]\n# the city's comment\nsqlalchemy.url = "
               "postgresql+psycopg:///shinsei?host=/run/postgresql\nsqlalchemy.pool_pre_ping = true\n")
    ini.write_text(earlier)
    step = replication.DatabaseUrl("/etc/shinsei/intranet.ini", {"STANDBY_HOST": "10.0.0.2"})
    assert len(step.differences(host)) == 1 and step.unresolved(host) == []
    step.apply(host)
    assert ini.read_text() == earlier.replace(
        "host=/run/postgresql\n", "host=/run/postgresql,10.0.0.2&port=5432,5432"
        "&target_session_attrs=read-write&sslmode=verify-ca"
        "&sslrootcert=/etc/shinsei/database/server.crt\n")
    assert [p.read_text() for p in ini.parent.glob("intranet.ini.bak-*")] == [earlier]
    assert step.differences(host) == []                          # a second run: nothing
    ini.write_text("[app:main]\nsqlalchemy.url = postgresql+psycopg://web@db.city/shinsei\n")
    assert step.differences(host) == []
    assert "自治体で書き換えたもの" in step.unresolved(host)[0]


def test_synchronous_waits_until_the_standby_receives(tmp_path):
    """Before the standby streams, a synchronous setting would hold every commit (the
    installer's own grants included): asynchronous until then, and said."""
    found = load(tmp_path, PRIMARY_VALUES + "STANDBY_HOST=10.0.0.2\nSTANDBY_MODE=sync\n")
    early = replication.conf_values(found, standby_streaming=False)
    assert "synchronous_standby_names = ''" in early["PG_STANDBY"]
    assert "もう一度実行すると同期" in replication.not_yet_synchronous(found, False)
    assert replication.not_yet_synchronous(found, True) is None


def test_the_cluster_is_stopped_by_its_own_unit_and_waited_for(tmp_path):
    """Debian's umbrella unit returns from stop before the cluster has stopped: the cluster's
    own unit is stopped, and the data directory left alone until postmaster.pid is gone."""
    assert replication.server_unit("15/main") == "postgresql@15-main"
    assert replication.server_unit("") == "postgresql"
    data = tmp_path / "data"
    data.mkdir()
    (data / "postmaster.pid").write_text("1\n")
    with pytest.raises(InstallError, match=r"postmaster\.pid が残っています"):
        replication.wait_stopped(Host(tmp_path), "/data", timeout=0.6)
    (data / "postmaster.pid").unlink()
    replication.wait_stopped(Host(tmp_path), "/data", timeout=0.6)
