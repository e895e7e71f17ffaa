"""deploy/ templates as the installer fills them, for the tests that check or run them."""

import contextlib
import datetime
import os
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from lab.databases import free_port, wait_until_listening

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
# Where install.sh puts deploy/nginx/tls.conf, which every TLS server block includes.
TLS_INCLUDE = "/etc/shinsei/nginx-tls.conf"
# Debian 12's stock /etc/nginx/nginx.conf, at http level (every site inherits these unless it
# sets its own); tests/integration/test_tls_policy.py checks this machine's file still says so.
DEBIAN_HTTP_TLS = ("  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE\n"
                   "  ssl_prefer_server_ciphers on;\n")
sys.path.insert(0, str(DEPLOY.parent / "tools"))
from shinsei_installer import render  # noqa: E402  (tools/ is not a package)

# What a city writes in its values file.
SAMPLE = render.derived({
    "MUNICIPALITY_CODE": "131016", "MUNICIPALITY_NAME": "千代田区", "ENVIRONMENT": "test",
    "SERVER_NAME": "shinsei.example.lg.jp", "TLS_CERT": "/etc/shinsei/tls/site.crt",
    "TLS_KEY": "/etc/shinsei/tls/site.key", "MANAGEMENT_ADDRESS": "192.0.2.10 2001:db8::10",
    "PUBLIC_HOSTS": "198.51.100.2 198.51.100.3", "STAFF_NETWORKS": "10.20.0.0/16",
    "INTRANET_HOST": "192.0.2.1", "CONTACT": "0120-000-000", "UPDATE_SCHEDULE": "平日10時",
    "MUNICIPALITY_NAME_EN": "Chiyoda City", "MUNICIPALITY_NAME_EASY": "{千代田区|ちよだく}",
    "CONTACT_EN": "0120-000-000 (in Japanese)", "CONTACT_EASY": "0120-000-000",
    "HOURS": "", "HOURS_EN": "", "HOURS_EASY": "", "PUBLIC_URL": "https://status.example.lg.jp",
    "UPDATE_SCHEDULE_EN": "weekdays at 10:00", "UPDATE_SCHEDULE_EASY": "月曜日から 金曜日の 10時",
    "PG_SHARED_BUFFERS": "128MB", "PG_EFFECTIVE_CACHE_SIZE": "512MB",
})


def self_signed(directory: Path, name: str = "site", kind: str = "ec"):
    """``name``.crt and ``name``.key in ``directory``: an ECDSA P-256 or an RSA (2048) key."""
    key = (ec.generate_private_key(ec.SECP256R1()) if kind == "ec"
           else rsa.generate_private_key(public_exponent=65537, key_size=2048))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (directory / f"{name}.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def nginx_config(directory: Path, site: str, port: int = 443, backend: int | None = None,
                 http_port: int | None = None, key: str = "ec") -> Path:
    """An nginx.conf in ``directory`` serving the shipped ``site``: its TLS servers on ``port``,
    its plain-HTTP ones on ``http_port`` (a free one when not given), its paths moved into
    ``directory`` and the checkout; ``backend``: the app's port instead of the shipped;
    ``key``: the certificate's kind (``ec`` or ``rsa``). The http block starts as Debian's
    stock /etc/nginx/nginx.conf does, so the site must hold its own against those lines."""
    directory.mkdir(parents=True, exist_ok=True)
    self_signed(directory, kind=key)
    text = render.render(DEPLOY / "nginx" / f"{site}.conf", SAMPLE)
    text = (text.replace("/etc/shinsei/tls/", f"{directory}/")
            .replace("/var/log/nginx/", f"{directory}/")
            .replace("/etc/shinsei/nginx-proxy.conf", str(DEPLOY / "nginx" / "proxy.conf"))
            .replace(TLS_INCLUDE, str(DEPLOY / "nginx" / "tls.conf"))
            .replace("/opt/shinsei/errors/", f"{DEPLOY / 'nginx' / 'errors'}/")
            .replace("/opt/shinsei/static/intranet/", f"{ROOT / 'intranet' / 'static'}/")
            .replace("/opt/shinsei/static/public_mirror/", f"{ROOT / 'public_mirror' / 'static'}/")
            .replace("listen 443 ssl", f"listen 127.0.0.1:{port} ssl")
            .replace("listen 80", f"listen 127.0.0.1:{http_port or free_port()}"))
    if backend is not None:
        text = text.replace("http://127.0.0.1:6543", f"http://127.0.0.1:{backend}").replace(
            "http://127.0.0.1:6544", f"http://127.0.0.1:{backend}")
    (directory / "site.conf").write_text(text)
    mime = "  include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
    config = directory / "nginx.conf"
    config.write_text(
        # Workers as root: they read the checkout's static files wherever it lies.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
        "events {}\nhttp {\n" + mime + DEBIAN_HTTP_TLS
        + f"  access_log {directory}/access.log;\n  include {directory}/site.conf;\n}}\n")
    return config


@contextlib.contextmanager
def serving(config: Path, port: int):
    """nginx running ``config`` (from nginx_config) until the block ends, once ``port`` takes
    connections."""
    directory = config.parent
    log = directory / "nginx.log"
    with log.open("wb") as output:
        nginx = subprocess.Popen(["nginx", "-p", str(directory), "-c", str(config), "-g",
                                  "daemon off;"], stdout=output, stderr=subprocess.STDOUT)
    wait_until_listening(nginx, port, "nginx", log)
    try:
        yield nginx
    finally:
        nginx.terminate()
        nginx.wait(10)
