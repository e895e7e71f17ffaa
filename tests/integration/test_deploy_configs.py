"""Every shipped configuration passes its own checker: sshd -t, nginx -t, nft -c and
systemd-analyze verify (make test installs openssh-server, nginx and nftables)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lab.deploy_sites import DEPLOY, SAMPLE, nginx_config, render


def need(tool):
    if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
        pytest.fail(f"{tool} is not installed: run `make test` (it installs it)")


def run(*command):
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_sshd_drop_in(tmp_path):
    need("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "host_key")], check=True)
    config = tmp_path / "sshd_config"
    config.write_text(f"HostKey {tmp_path / 'host_key'}\nSubsystem sftp internal-sftp\n"
                      + (DEPLOY / "sshd" / "00-shinsei.conf").read_text())
    run("/usr/sbin/sshd", "-t", "-f", str(config))


@pytest.mark.parametrize("site", ["intranet", "mirror"])
def test_nginx_site(tmp_path, site):
    need("nginx")
    config = nginx_config(tmp_path, site)
    run("nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(config))


@pytest.mark.parametrize("host", ["intranet-host", "intranet-standby", "public-host"])
def test_nftables_rules(host, tmp_path):
    need("nft")
    rules = tmp_path / "rules.nft"
    rules.write_text(render.render(DEPLOY / "nftables" / f"{host}.nft", SAMPLE))
    run("nft", "-c", "-f", str(rules))


def test_systemd_units(tmp_path):
    need("systemd-analyze")
    venv_bin = Path(sys.executable).parent
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = unit.read_text().replace("/opt/shinsei/venv/bin/", f"{venv_bin}/")
        (tmp_path / unit.name).write_text(text)
        units.append(str(tmp_path / unit.name))
    result = run("systemd-analyze", "verify", *units)
    assert "Unknown" not in result.stderr, result.stderr
    # Root, each with only the capabilities of its one job: the firewall loader changes the
    # kernel's rules; the backup reads every account's keys and runs pg_dump as postgres.
    as_root = {"shinsei-nftables.service": "CAP_NET_ADMIN",
               "shinsei-backup.service": "CAP_DAC_READ_SEARCH CAP_SETUID CAP_SETGID"}
    # The balancer's sequence agent owns nothing on disk: a user that exists while it runs.
    dynamic = {"shinsei-balancer-agent.service"}
    for service in (DEPLOY / "systemd").glob("*.service"):
        text = service.read_text()
        user = "DynamicUser=yes" if service.name in dynamic else "User=shinsei-"
        own = (("User=root", f"CapabilityBoundingSet={as_root[service.name]}\n")
               if service.name in as_root else (user, "CapabilityBoundingSet=\n"))
        for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", *own):
            assert setting in text, f"{service.name} lacks {setting}"


def test_ini_files_load(tmp_path):
    from pyramid.paster import get_appsettings

    for name in ("intranet.ini", "mirror.ini"):
        (tmp_path / name).write_text(render.render(DEPLOY / name, SAMPLE), encoding="utf-8")
        settings = get_appsettings(str(tmp_path / name))
        assert "@" not in "".join(v for k, v in settings.items() if "destinations" not in k)
    intranet = get_appsettings(str(tmp_path / "intranet.ini"))
    assert intranet["transfer.origin"] == "131016:test"
    assert get_appsettings(str(tmp_path / "mirror.ini"))["mirror.origin"] == "131016:test"
