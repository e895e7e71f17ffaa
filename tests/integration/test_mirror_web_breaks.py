"""Issue 12's breaks of the residents' page, each performed against a real waitress server
(and the shipped nginx site where the break went through it), and shown defeated."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from lab.databases import free_port, wait_until_listening
from lab.deploy_sites import SAMPLE, TLS_INCLUDE, render
from lab.deploy_sites import self_signed as _self_signed
from lab.mirror_fixtures import without_proof
from lab.servers import WaitressThread
from public_mirror.usage import totals
from tests.integration.mirror_host import (
    COMMAND,
    mirror_cli,
    post_form,
    post_json,
    request,
    wait_until,
)

DEPLOY = Path(__file__).parents[2] / "deploy"
STATIC = Path(__file__).parents[2] / "public_mirror" / "static"
SERVER_NAME = "status.example.lg.jp"
NOT_FOUND = {"programme": "p2020", "receipt_number": "00000099", "lang": "ja"}


def links(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]+)"', html)


# --- break 1 --------------------------------------------------------------------------

def test_break_01_answer_page_cache_poisoning(public_host):
    public_host.publish()
    with WaitressThread(public_host.app().app) as server:
        # The attacker's request: a forged Host, forwarded-host headers and ?lang=en.
        status, _headers, poisoned = post_form(
            server.port, NOT_FOUND, path="/lookup?lang=en",
            headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example",
                     "X-Forwarded-Proto": "http"})
        assert status == 200
        # Every later resident with the same answer gets the cached page.
        for number in ("00000098", "00000097"):
            _status, _headers, later = post_form(server.port, {**NOT_FOUND, "receipt_number": number},
                                                 headers={"Host": SERVER_NAME})
            # The same page but for each resident's own number (masked, and in the language
            # buttons, with their proof of a repeat), spliced in per request: nothing of the
            # attacker's request.
            mine = number.encode()
            assert without_proof(later).replace(mine, b"#").replace(mine[-4:], b"%") == \
                without_proof(poisoned).replace(NOT_FOUND["receipt_number"].encode(), b"#").replace(
                    NOT_FOUND["receipt_number"][-4:].encode(), b"%")
        page = later.decode()
        assert "evil.example" not in page and '<html lang="ja">' in page
        assert all(link.startswith(("/", "#")) and not link.startswith("//") for link in links(page))


class Nginx:
    """The shipped site (deploy/nginx/mirror.conf) on free ports, in front of ``upstream``."""

    def __init__(self, directory: Path, upstream: int):
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            pytest.fail("nginx is not installed: run `make test` (it installs it)")
        self.directory, self.http, self.https = directory, free_port(), free_port()
        directory.mkdir(parents=True, exist_ok=True)
        _self_signed(directory, "mirror")
        # The template as install.sh fills it, for this site's name and certificate.
        text = render.render(DEPLOY / "nginx" / "mirror.conf", {
            **SAMPLE, "SERVER_NAME": SERVER_NAME, "TLS_CERT": "/etc/shinsei/tls/mirror.crt",
            "TLS_KEY": "/etc/shinsei/tls/mirror.key"})
        text = (text.replace("/etc/shinsei/tls/", f"{directory}/")
                .replace("/var/log/nginx/", f"{directory}/")
                .replace("listen 80", f"listen 127.0.0.1:{self.http}")
                .replace("listen 443", f"listen 127.0.0.1:{self.https}")
                .replace("127.0.0.1:6544", f"127.0.0.1:{upstream}")
                .replace("/opt/shinsei/static/public_mirror/", f"{STATIC}/")
                .replace(TLS_INCLUDE, str(DEPLOY / "nginx" / "tls.conf")))
        (directory / "site.conf").write_text(text)
        (directory / "nginx.conf").write_text(
            f"user root;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
            "daemon off;\nevents {}\nhttp {\n"
            f"  access_log {directory}/access.log;\n  include {directory}/site.conf;\n}}\n")

    def __enter__(self):
        self.process = subprocess.Popen(["nginx", "-p", str(self.directory), "-c",
                                         str(self.directory / "nginx.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_listening(self.process, self.https, "nginx", self.directory / "error.log")
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)

    def request(self, method, path, body=b"", headers=None, sni=SERVER_NAME):
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.https, timeout=10, context=context)
        conn.sock = context.wrap_socket(
            socket.create_connection(("127.0.0.1", self.https), timeout=10), server_hostname=sni)
        conn.request(method, path, body=body, headers={"Host": SERVER_NAME, **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, data


class HostRecorder:
    """WSGI middleware: which Host headers reached the app."""

    def __init__(self, app):
        self.app, self.hosts = app, Counter()

    def __call__(self, environ, start_response):
        self.hosts[environ.get("HTTP_HOST")] += 1
        return self.app(environ, start_response)


def test_break_01_nginx_passes_only_the_configured_name(public_host, tmp_path):
    public_host.publish()
    app = HostRecorder(public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"}).app)
    with WaitressThread(app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        form = "&".join(f"{k}={v}" for k, v in NOT_FOUND.items()).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        with pytest.raises((http.client.HTTPException, ConnectionError, ssl.SSLError)):
            nginx.request("POST", "/lookup?lang=en", form, {**headers, "Host": "evil.example"})
        with pytest.raises((http.client.HTTPException, ConnectionError, ssl.SSLError)):
            nginx.request("GET", "/", headers={"Host": "evil.example"}, sni="evil.example")
        status, page = nginx.request("POST", "/lookup", form, headers)
        assert status == 200 and b"evil.example" not in page
    assert set(app.hosts) == {SERVER_NAME}


# --- break 9 --------------------------------------------------------------------------

@pytest.mark.parametrize("malformed", [
    {"status_of_first": 7},
    {"header": {"created_at": "garbage"}},
    {"programmes": [{"code": "p2020", "name": "給付金", "needs_birth_date": "no"}]},
    {"statuses": [{"code": "received", "dates": [], "wording": {"ja": "受付"}}]},
])
def test_break_09_validly_signed_but_malformed_snapshot(public_host, malformed):
    public_host.publish()
    good = public_host.sequence
    public_host.drop(public_host.snapshot(**malformed), "malformed.bin")
    refused = mirror_cli(public_host, "receive")
    assert refused.returncode == 1 and ("MalformedSnapshot" in refused.stderr
                                        or "InvalidEntries" in refused.stderr)
    with WaitressThread(public_host.app().app) as server:
        status, _h, body = post_form(server.port, {"programme": "p2020", "receipt_number": "00000002"})
        assert status == 200 and "振込予定です" in body.decode()
        health = json.loads(request(server.port, "GET", "/healthz")[2])
        assert health["status"] == "ok" and health["sequence"] == good
        assert "MalformedSnapshot" in health["last_refusal"]["reason"] \
            or "InvalidEntries" in health["last_refusal"]["reason"]


def test_break_09_a_malformed_active_file_is_never_reported_ok(public_host):
    """Even if such a file is put in place by hand, no resident gets a 500 and /healthz
    does not say "ok"."""
    public_host.publish()
    (public_host.root / "state" / "active.snapshot").write_bytes(
        public_host.snapshot(status_of_first=7))
    with WaitressThread(public_host.app().app) as server:
        status, _h, body = post_form(server.port, {"programme": "p2020", "receipt_number": "00000001"})
        assert status == 503 and "情報を更新しています" in body.decode()
        status, _h, body = request(server.port, "GET", "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "none"
        assert "InvalidEntries" in health["problem"]


# --- break 10 -------------------------------------------------------------------------

def test_break_10_crafted_input_is_a_400_never_a_500(public_host):
    public_host.publish()
    with WaitressThread(public_host.app().app) as server:
        status, headers, body = post_form(server.port, {
            "programme": "p2024", "receipt_number": "00000001", "birth_year": "2147483648",
            "birth_month": "1", "birth_day": "1"})
        assert status == 400 and 'id="birth-error"' in body.decode()
        assert headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
        status, _h, body = post_json(server.port, {"programme": "p2024", "receipt_number": "1",
                                                   "birth_date": "2147483648-01-01"})
        assert status == 400 and json.loads(body)["result"] == "invalid"
        for nested in (b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 1000 + b"1" + b"}" * 1000):
            status, _h, body = post_json(server.port, nested)
            assert status == 400 and json.loads(body)["result"] == "invalid"
        status, _h, body = request(server.port, "POST", "/lookup", b"x=1",
                                   {"Content-Type": "application/x-www-form-urlencoded",
                                    "Content-Length": "abc"})
        assert status == 400


# --- break 11 -------------------------------------------------------------------------

class Serve:
    """``shinsei-mirror serve`` as the unit runs it: several processes sharing one port."""

    def __init__(self, host, processes=2, **overrides):
        self.port = free_port()
        ini = host.write_ini(**overrides)
        self.process = subprocess.Popen(
            [COMMAND, "-c", str(ini), "serve", "--port", str(self.port),
             "--processes", str(processes), "--threads", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        wait_until(self._answers, timeout=30)

    def _answers(self):
        try:
            return request(self.port, "GET", "/healthz")[0] == 200
        except OSError:
            return False

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)   # as systemd stops the unit's group
        _out, err = self.process.communicate(timeout=15)
        return err.decode()


def test_break_11_the_rate_limit_holds_across_worker_processes(public_host):
    public_host.publish()
    server = Serve(public_host, processes=2, **{"mirror.rate_limit": "6"})
    try:
        statuses = Counter(post_form(server.port, {"programme": "p2020",
                                                   "receipt_number": f"9{n:07d}"})[0]
                           for n in range(30))   # failed lookups: the ones the limit counts
    finally:
        server.stop()
    assert statuses == Counter({200: 6, 429: 24})


def test_break_11_the_proxys_refusal_is_the_japanese_page(public_host, tmp_path):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "100000", "mirror.trusted_proxies": "127.0.0.1"})
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        form = "&".join(f"{k}={v}" for k, v in NOT_FOUND.items()).encode()
        answers = [nginx.request("POST", "/lookup", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
                   for _ in range(40)]
    refused = [page.decode() for status, page in answers if status == 429]
    assert refused, "nginx's flood guard never tripped"
    for page in refused:
        assert "しばらくお待ちください" in page and 'href="/"' in page and "nginx" not in page


def test_every_refusal_nginx_makes_is_a_japanese_page(public_host, tmp_path):
    public_host.publish()
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"})
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        status, page = nginx.request("POST", "/lookup", b"receipt_number=" + b"1" * 20_000,
                                     {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 413 and "入力画面に戻る" in page.decode()
    with Nginx(tmp_path / "nginx-alone", free_port()) as nginx:     # the app is down
        status, page = nginx.request("GET", "/")
        assert status == 502 and "ただいま確認できません" in page.decode()
        assert 'href="/"' in page.decode()


# --- break 12 -------------------------------------------------------------------------

def test_break_12_usage_counts_are_flushed_on_sigterm(public_host):
    public_host.publish()
    server = Serve(public_host, processes=2)
    for n in range(7):
        post_form(server.port, {"programme": "p2020", "receipt_number": f"{n + 1:08d}"})
    err = server.stop()
    assert "Traceback" not in err
    [day] = totals(public_host.root / "state" / "usage").values()
    assert day["lookups"] == 7 and day["found"] == 7


# --- issue 11: what operators see -----------------------------------------------------

def test_healthz_tells_the_monitoring_what_residents_see(public_host):
    with WaitressThread(public_host.app().app) as server:
        status, _h, body = request(server.port, "GET", "/healthz")
        assert status == 503 and json.loads(body)["status"] == "none"
        public_host.publish()
        public_host.drop(b"garbage", "bad.bin")
        mirror_cli(public_host, "receive")
        time.sleep(1.1)
        status, _h, body = request(server.port, "GET", "/healthz")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok"
    assert health["sequence"] == public_host.sequence and health["age_seconds"] >= 1
    assert health["created_at"].endswith("Z") and health["expires_at"]
    assert health["last_refusal"]["file"] == "bad.bin"
    assert health["last_refusal"]["reason"].startswith("MalformedSnapshot")
    assert set(health) >= {"status", "sequence", "created_at", "age_seconds", "last_refusal"}


@pytest.mark.parametrize("raw, expected", [
    (b"GET /%ff%fe?lang=%ff HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /?lang=%ff HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    (b"GET /?lang=en%0d%0aX:y HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    (b"GET /static/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"POST /lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg",
     400),
    (b"POST /lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     b"Content-Length: -1\r\n\r\n", 400),
    (b"POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
     b"Content-Length: 34\r\n\r\n{\"receipt_number\": \"\\ud800\\udfff\"}", 400),
    (b"PUT /lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404),
])
def test_raw_requests_never_get_a_500(public_host, raw, expected):
    public_host.publish()
    with WaitressThread(public_host.app().app) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
    assert data.split(b"\r\n")[0].split(b" ")[1] == str(expected).encode()


def test_a_chunked_form_is_answered_like_any_other(public_host):
    public_host.publish()
    with WaitressThread(public_host.app().app) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", "/lookup", body=iter([b"programme=p2020&", b"receipt_number=00000002"]),
                     headers={"Content-Type": "application/x-www-form-urlencoded"},
                     encode_chunked=True)
        response = conn.getresponse()
        assert response.status == 200 and "振込予定です" in response.read().decode()
        conn.close()
