"""deploy/ templates as the installer fills them, for the tests that check or run them."""

import datetime
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.databases import free_port

DEPLOY = Path(__file__).parents[1] / "deploy"
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


def self_signed(directory: Path, name: str = "site"):
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


def nginx_config(directory: Path, site: str, port: int = 443, backend: int | None = None) -> Path:
    """An nginx.conf in ``directory`` serving the shipped ``site`` on ``port`` (TLS), with
    its paths moved into ``directory``; ``backend``: the app's port instead of the shipped."""
    self_signed(directory)
    text = render.render(DEPLOY / "nginx" / f"{site}.conf", SAMPLE)
    text = (text.replace("/etc/shinsei/tls/", f"{directory}/")
            .replace("/var/log/nginx/", f"{directory}/")
            .replace("/etc/shinsei/nginx-proxy.conf", str(DEPLOY / "nginx" / "proxy.conf"))
            .replace("/opt/shinsei/errors/", f"{DEPLOY / 'nginx' / 'errors'}/")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
            .replace("listen 80 default_server;", f"listen 127.0.0.1:{free_port()};"))
    if backend is not None:
        text = text.replace("http://127.0.0.1:6543", f"http://127.0.0.1:{backend}").replace(
            "http://127.0.0.1:6544", f"http://127.0.0.1:{backend}")
    (directory / "site.conf").write_text(text)
    config = directory / "nginx.conf"
    config.write_text(
        f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
        "events {}\nhttp {\n"
        f"  access_log {directory}/access.log;\n  include {directory}/site.conf;\n}}\n")
    return config
