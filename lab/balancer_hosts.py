"""Real servers for the balancer tests: public hosts (the residents' app on waitress behind the
shipped public-host nginx site) and a balancer (the shipped HAProxy or nginx configuration),
all on loopback, every file as install.sh writes it."""

import datetime
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lab.databases import free_port, wait_until_listening
from lab.deploy_sites import DEPLOY, ROOT, SAMPLE, TLS_INCLUDE
from lab.servers import WaitressThread

sys.path.insert(0, str(ROOT / "tools"))
from shinsei_installer import balancer, render
from shinsei_installer.common import Bundle

SERVER_NAME = "shinsei.example.lg.jp"
# Where the values file says the public hosts are (the first as many as there are hosts);
# each is moved to its loopback port here.
ADDRESSES = ("192.0.2.101", "192.0.2.102", "192.0.2.103")
VALUES = {**SAMPLE, "SERVER_NAME": SERVER_NAME, "PUBLIC_HOSTS": " ".join(ADDRESSES[:2]),
          "PUBLIC_HOSTS_CA": "/etc/shinsei/tls/site.crt", "BALANCER_ENGINE": "haproxy",
          "CONTACT": "テスト市 給付金コールセンター 0120-000-000", "HOURS": "平日 8時30分〜17時15分",
          "CONTACT_EASY": "テスト{市|し}の {電話|でんわ} 0120-000-000"}


def certificate(directory: Path) -> tuple[Path, Path]:
    """site.crt / site.key for SERVER_NAME (its own CA: the balancer's trust anchor)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "site.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return directory / "site.crt", directory / "site.key"


class Process:
    """A server started from its shipped configuration; stopped on leaving. ``forks``: it
    starts servers of its own (a session of its own, all stopped with it)."""

    command: list[str]
    port: int
    log: Path
    forks = False

    def __enter__(self):
        self.process = subprocess.Popen(self.command, stdout=open(self.log, "ab"),
                                        stderr=subprocess.STDOUT, start_new_session=self.forks)
        wait_until_listening(self.process, self.port, self.command[0], self.log)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.process.poll() is None:
            if self.forks:
                os.killpg(self.process.pid, signal.SIGTERM)
            else:
                self.process.terminate()
            self.process.wait(timeout=10)


def nginx_conf(directory: Path, site_text: str, workers: str = "1") -> list[str]:
    """nginx.conf around the site; ``workers``: worker_processes (Debian's file says auto)."""
    (directory / "site.conf").write_text(site_text)
    (directory / "nginx.conf").write_text(
        f"user root;\nworker_processes {workers};\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log;\n"
        "daemon off;\nevents {}\nhttp {\n"
        f"  access_log {directory}/access.log;\n  include {directory}/site.conf;\n}}\n")
    return ["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf")]


class PublicNginx(Process):
    """deploy/nginx/mirror.conf as install.sh writes it on a public host whose values file
    names the balancer (BALANCER_ADDRESSES=127.0.0.1), in front of the app on ``upstream``."""

    def __init__(self, directory: Path, upstream: int, tls: Path, workers: str = "1"):
        directory.mkdir(parents=True, exist_ok=True)
        self.port, self.log = free_port(), directory / "error.log"
        values = render.derived({**VALUES, "BALANCER_ADDRESSES": "127.0.0.1"})
        text = (render.render(DEPLOY / "nginx" / "mirror.conf", values)
                .replace("/etc/shinsei/tls/", f"{tls}/")
                .replace("/var/log/nginx/", f"{directory}/")
                .replace("listen 80", f"listen 127.0.0.1:{free_port()}")
                .replace("listen 443", f"listen 127.0.0.1:{self.port}")
                .replace("127.0.0.1:6544", f"127.0.0.1:{upstream}")
                .replace("/opt/shinsei/static/public_mirror/",
                         f"{ROOT / 'public_mirror' / 'static'}/")
                .replace(TLS_INCLUDE, str(DEPLOY / "nginx" / "tls.conf")))
        self.command = nginx_conf(directory, text, workers)


class Recorder:
    """WSGI middleware: the client address each request reached the app with (health checks
    apart), so a test can tell which host answered whom."""

    def __init__(self, app):
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/healthz":
            self.seen.append(environ.get("REMOTE_ADDR"))
        return self.app(environ, start_response)


class PublicHostServer:
    """One public host: the app (on waitress) behind the public host's nginx."""

    def __init__(self, host, directory: Path, tls: Path):
        self.host = host
        self.recorder = Recorder(host.app(**{"mirror.trusted_proxies": "127.0.0.1"}).app)
        # As deploy/mirror.ini's [server:main]: the client is what the host's nginx says.
        self.waitress = WaitressThread(self.recorder, trusted_proxy="127.0.0.1",
                                       trusted_proxy_headers="x-forwarded-for x-forwarded-proto",
                                       clear_untrusted_proxy_headers=True)
        self.nginx = PublicNginx(directory, self.waitress.port, tls)

    def __enter__(self):
        self.waitress.__enter__()
        self.nginx.__enter__()
        return self

    def __exit__(self, *exc):
        self.nginx.__exit__(*exc)
        self.waitress.__exit__(*exc)

    @property
    def port(self):
        return self.nginx.port

    def break_snapshot(self):
        """The active file damaged (its /healthz: "none", 503); ``repair`` puts it back."""
        active = self.host.root / "state" / "active.snapshot"
        self.good = active.read_bytes()
        active.write_bytes(b"not a snapshot")

    def repair(self):
        (self.host.root / "state" / "active.snapshot").write_bytes(self.good)


def _values(hosts, **more) -> dict:
    """The balancer's values for these hosts: the values file names as many public hosts."""
    return render.balancer({**VALUES, "PUBLIC_HOSTS": " ".join(ADDRESSES[:len(hosts)]), **more})


def _placed(text: str, directory: Path, tls: Path, hosts) -> str:
    for address, host in zip(ADDRESSES[:len(hosts)], hosts, strict=True):
        text = text.replace(f"{address}:443", f"127.0.0.1:{host.port}")
    return (text.replace("/etc/shinsei/tls/", f"{tls}/")
            .replace("/var/log/nginx/", f"{directory}/")
            .replace(TLS_INCLUDE, str(DEPLOY / "nginx" / "tls.conf")))


class HAProxy(Process):
    """deploy/balancer/haproxy.cfg as install.sh --role balancer writes it, with its page and
    certificate file; only what needs root moved (ports, chroot, user, log socket, and the
    stats socket, which is ``stats_socket`` here)."""

    def __init__(self, directory: Path, tls: Path, hosts):
        directory.mkdir(parents=True, exist_ok=True)
        self.port, self.log = free_port(), directory / "haproxy.log"
        values = _values(hosts)
        page = balancer.unavailable_page(Bundle(ROOT), values)
        (directory / "errors").mkdir()
        (directory / "errors" / "shinsei-503.http").write_bytes(balancer.http_503(page))
        (directory / "shinsei.pem").write_bytes((tls / "site.crt").read_bytes()
                                                + (tls / "site.key").read_bytes())
        text = render.render(DEPLOY / "balancer" / "haproxy.cfg", values)
        for line in ("log /dev/log local0", "chroot /var/lib/haproxy", "user haproxy",
                     "group haproxy", "daemon"):
            assert f"    {line}\n" in text, line
            text = text.replace(f"    {line}\n", "")
        self.stats_socket = directory / "admin.sock"
        assert "stats socket /run/haproxy/admin.sock " in text
        text = text.replace("stats socket /run/haproxy/admin.sock ",
                            f"stats socket {self.stats_socket} ")
        self.agent_port = free_port()
        text = (_placed(text, directory, tls, hosts)
                .replace(f"agent-port {render.AGENT_PORT} ", f"agent-port {self.agent_port} ")
                .replace("/etc/haproxy/", f"{directory}/")
                .replace("bind :443", f"bind 127.0.0.1:{self.port}")
                .replace("bind :80", f"bind 127.0.0.1:{free_port()}"))
        (directory / "haproxy.cfg").write_text(text)
        self.command = ["haproxy", "-db", "-f", str(directory / "haproxy.cfg")]

    def servers(self) -> dict[str, dict]:
        """``show stat`` on the stats socket, per server of the residents' backend: its status
        (UP, DOWN, …) and sessions."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.stats_socket))
            sock.sendall(b"show stat\n")
            text = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
        header, *rows = [line.split(",") for line in text.splitlines() if line]
        header[0] = header[0].lstrip("# ")
        named = [dict(zip(header, row, strict=False)) for row in rows]
        return {row["svname"]: row for row in named
                if row["svname"] not in ("FRONTEND", "BACKEND") and row["pxname"] != "stats"}


class SequenceAgent(Process):
    """deploy/balancer/sequence_agent.py run as its unit runs it (python3 -I), with the
    settings file install.sh writes, on the port ``haproxy`` asks."""

    def __init__(self, directory: Path, tls: Path, hosts, haproxy: HAProxy, grace: float):
        directory.mkdir(parents=True, exist_ok=True)
        self.port, self.log = haproxy.agent_port, directory / "agent.log"
        values = _values(hosts, PUBLIC_HOSTS_CA=f"{tls}/site.crt")
        text = render.render(DEPLOY / "balancer" / "agent.ini", values)
        assert "behind_grace = 10\n" in text
        text = (_placed(text.replace("behind_grace = 10", f"behind_grace = {grace}"), directory,
                        tls, hosts)
                .replace(f"127.0.0.1:{render.AGENT_PORT}", f"127.0.0.1:{self.port}"))
        (directory / "agent.ini").write_text(text)
        self.command = ["/usr/bin/python3", "-I", str(DEPLOY / "balancer" / "sequence_agent.py"),
                        str(directory / "agent.ini")]


class NginxBalancer(Process):
    """deploy/nginx/balancer.conf (BALANCER_ENGINE=nginx) as install.sh writes it."""

    def __init__(self, directory: Path, tls: Path, hosts):
        directory.mkdir(parents=True, exist_ok=True)
        self.port, self.log = free_port(), directory / "error.log"
        values = _values(hosts, BALANCER_ENGINE="nginx")
        pages = directory / "errors"
        pages.mkdir()
        (pages / "shinsei-unavailable.html").write_text(
            balancer.unavailable_page(Bundle(ROOT), values))
        text = (_placed(render.render(DEPLOY / "nginx" / "balancer.conf", values), directory,
                        tls, hosts)
                .replace("root /opt/shinsei/errors/balancer;", f"root {pages};")
                .replace("listen 80", f"listen 127.0.0.1:{free_port()}")
                .replace("listen 443", f"listen 127.0.0.1:{self.port}"))
        self.command = nginx_conf(directory, text)


def fetch(port: int, client: str, path: str = "/", method: str = "GET", body: bytes = b"",
          headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One resident's request over TLS to the balancer, from loopback address ``client``."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(client, 0))
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=15, context=context)
    conn.sock = context.wrap_socket(raw, server_hostname=SERVER_NAME)
    conn.request(method, path, body=body, headers={"Host": SERVER_NAME, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    # Header names in lower case: HAProxy sends them so (HTTP/1.1 is case-blind).
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data
