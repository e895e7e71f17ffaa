"""Every shipped configuration passes its own checker: sshd -t, nginx -t, nft -c and
systemd-analyze verify (make test installs openssh-server, nginx and nftables)."""

import datetime
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEPLOY = Path(__file__).parents[2] / "deploy"
sys.path.insert(0, str(DEPLOY.parent / "tools"))
from shinsei_installer import render  # noqa: E402  (tools/ is not a package)

# What a city writes in its values file; the templates are checked as the installer fills them.
SAMPLE = render.derived({
    "MUNICIPALITY_CODE": "131016", "MUNICIPALITY_NAME": "千代田区", "ENVIRONMENT": "test",
    "SERVER_NAME": "shinsei.example.lg.jp", "TLS_CERT": "/etc/shinsei/tls/site.crt",
    "TLS_KEY": "/etc/shinsei/tls/site.key", "MANAGEMENT_ADDRESS": "192.0.2.10 2001:db8::10",
    "PUBLIC_HOSTS": "198.51.100.2 198.51.100.3", "STAFF_NETWORKS": "10.20.0.0/16",
    "INTRANET_HOST": "192.0.2.1", "CONTACT": "0120-000-000", "UPDATE_SCHEDULE": "平日10時",
    "PG_SHARED_BUFFERS": "128MB", "PG_EFFECTIVE_CACHE_SIZE": "512MB",
})


def need(tool):
    if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
        pytest.fail(f"{tool} is not installed: run `make test` (it installs it)")


def run(*command):
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_sshd_upload_block(tmp_path):
    need("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "host_key")], check=True)
    config = tmp_path / "sshd_config"
    config.write_text(f"HostKey {tmp_path / 'host_key'}\nSubsystem sftp internal-sftp\n"
                      + (DEPLOY / "sshd" / "shinsei-upload.conf").read_text())
    run("/usr/sbin/sshd", "-t", "-f", str(config))


def _self_signed(directory: Path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (directory / f"{name}.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


@pytest.mark.parametrize("site", ["intranet", "mirror"])
def test_nginx_site(tmp_path, site):
    need("nginx")
    _self_signed(tmp_path, "site")
    text = render.render(DEPLOY / "nginx" / f"{site}.conf", SAMPLE)
    text = text.replace("/etc/shinsei/tls/", f"{tmp_path}/").replace("/var/log/nginx/",
                                                                     f"{tmp_path}/")
    text = text.replace("/etc/shinsei/nginx-proxy.conf", str(DEPLOY / "nginx" / "proxy.conf"))
    (tmp_path / "site.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n"
        f"  access_log {tmp_path}/access.log;\n  include {tmp_path}/site.conf;\n}}\n")
    run("nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"))


@pytest.mark.parametrize("host", ["intranet-host", "public-host"])
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
    for service in (DEPLOY / "systemd").glob("*.service"):
        text = service.read_text()
        # The firewall loader changes the kernel's rules: root, with CAP_NET_ADMIN alone.
        own = (("User=root", "CapabilityBoundingSet=CAP_NET_ADMIN\n")
               if service.name == "shinsei-nftables.service"
               else ("User=shinsei-", "CapabilityBoundingSet=\n"))
        for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", *own):
            assert setting in text, f"{service.name} lacks {setting}"


def test_ini_files_load(tmp_path):
    from pyramid.paster import get_appsettings

    for name in ("intranet.ini", "mirror.ini"):
        (tmp_path / name).write_text(render.render(DEPLOY / name, SAMPLE), encoding="utf-8")
        settings = get_appsettings(str(tmp_path / name))
        assert "@" not in "".join(v for k, v in settings.items() if "destinations" not in k)
    intranet = get_appsettings(str(tmp_path / "intranet.ini"))
    assert intranet["shinsei.municipality_code"] == "131016"
    assert get_appsettings(str(tmp_path / "mirror.ini"))["mirror.origin"] == "131016:test"
