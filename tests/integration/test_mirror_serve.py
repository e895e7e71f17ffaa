"""`shinsei-mirror serve` (what shinsei-mirror-web.service runs) honours the ini's
[server:main] (listen address, the proxy it trusts), and behind nginx and TLS the residents'
form never posts to http://, which the browser's CSP (form-action 'self') would block."""

import configparser
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.databases import free_port

DEPLOY = Path(__file__).parents[2] / "deploy"
BIN = Path(sys.executable).parent


def shipped_server_section(port):
    """deploy/mirror.ini's [server:main], on a free port."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(DEPLOY / "mirror.ini", encoding="utf-8")
    server = dict(parser["server:main"])
    server["listen"] = f"127.0.0.1:{port}"
    return server


@pytest.fixture
def served(public_host, tmp_path):
    yield from serving(public_host, tmp_path, processes=1)


@pytest.fixture
def served_twice(public_host, tmp_path):
    """Two processes sharing the port, as on the two-core host; a limit of 5 failures."""
    yield from serving(public_host, tmp_path, processes=2, **{"mirror.rate_limit": "5"})


def serving(public_host, tmp_path, processes, **settings):
    public_host.publish()
    port = free_port()
    ini = tmp_path / "mirror.ini"
    lines = ["[app:main]", "use = egg:shinsei-status#mirror"]
    lines += [f"{key} = {value}" for key, value in {**public_host.settings, **settings}.items()]
    lines += ["", "[server:main]"]
    lines += [f"{key} = {value}" for key, value in shipped_server_section(port).items()]
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # No --host/--port: the listen address comes from the ini, as in the unit.
    process = subprocess.Popen([str(BIN / "shinsei-mirror"), "-c", str(ini), "serve",
                                "--processes", str(processes), "--threads", "2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            probe.connect()
            probe.close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"shinsei-mirror serve did not listen: {process.stderr.read().decode()}")
    time.sleep(1 if processes > 1 else 0)   # the forked process has built its app too
    yield port
    os.killpg(process.pid, signal.SIGTERM)  # the forked processes with it
    process.wait(10)
    process.stderr.close()


def page(port, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/", headers=headers)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_behind_the_tls_proxy_the_form_never_posts_to_http(served):
    # What nginx (deploy/nginx/mirror.conf) sends for a resident on https://status.example.lg.jp/
    body = page(served, {"Host": "status.example.lg.jp", "X-Forwarded-Proto": "https",
                         "X-Forwarded-For": "203.0.113.7"})
    [action] = re.findall(r'<form method="post" action="([^"]*)"', body)
    # Root-relative or https: either is "self" for CSP form-action under https.
    assert action.startswith(("/", "https://")), action


FORM = "application/x-www-form-urlencoded"


def lookup_request(body: str, close: bool = False) -> bytes:
    data = body.encode()
    head = ["POST /lookup HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {FORM}",
            f"Content-Length: {len(data)}", *(["Connection: close"] if close else [])]
    return "\r\n".join([*head, "", ""]).encode() + data


def responses(port, raw: bytes, count: int) -> list:
    """Send ``raw`` (several pipelined requests) at once; read ``count`` responses."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        reader = sock.makefile("rb")
        answers = []
        for _ in range(count):
            response = http.client.HTTPResponse(FakeSocket(reader))
            response.begin()
            answers.append((response.status, dict(response.getheaders()), response.read()))
        return answers


class FakeSocket:
    """What http.client.HTTPResponse reads from: the connection's one reader, which a
    finished response must not close (the next response follows on it)."""

    def __init__(self, reader):
        self.reader = reader

    def makefile(self, *args, **kw):
        return self

    def __getattr__(self, name):
        return getattr(self.reader, name)

    def close(self):
        pass


def test_answered_in_the_io_thread_byte_for_byte_as_the_app_answers(served, public_host):
    """POST /lookup is answered by waitress's I/O thread (public_mirror.serve): the status,
    headers and body are the app's own, as a WSGI call in this process gives them."""
    app = public_host.app()
    for body in ("programme=p2020&lang=ja&receipt_number=00000002",
                 "programme=p2020&lang=en&receipt_number=90000009",
                 "programme=p2020&receipt_number=", "programme=p2024&receipt_number=00000001"
                 "&birth_era=showa&birth_year=55&birth_month=4&birth_day=1&lang=ja-easy"):
        [(status, headers, page)] = responses(served, lookup_request(body), 1)
        expected = app.post("/lookup", body, content_type=FORM, status="*",
                            extra_environ={"REMOTE_ADDR": "127.0.0.1"})
        assert status == expected.status_int and page == expected.body
        assert {k: v for k, v in headers.items() if k not in ("Date", "Server")} == \
            dict(expected.headerlist)


def test_pipelined_requests_are_answered_in_order_whoever_serves_them(served):
    """A lookup (I/O thread), a page (a worker thread), a lookup: in the order asked."""
    raw = (lookup_request("programme=p2020&receipt_number=00000002")
           + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
           + lookup_request("programme=p2020&receipt_number=90000009")
           + b"GET /no-such-page HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
           + lookup_request("programme=p2020&receipt_number=00000003", close=True))
    answers = responses(served, raw, 5)
    assert [status for status, _, _ in answers] == [200, 200, 200, 404, 200]
    assert "振込予定です".encode() in answers[0][2] and b"ok" in answers[1][2].lower()
    assert "見つかりませんでした".encode() in answers[2][2]
    assert "受け付けました".encode() in answers[4][2]


def test_two_server_processes_hold_one_limit(served_twice):
    """Failures from one address over fresh connections (the kernel spreads them over both
    processes): five are answered, then every lookup is refused, whichever process takes it."""
    kinds = []
    for n in range(12):
        [(status, _, _)] = responses(
            served_twice, lookup_request(f"programme=p2020&receipt_number=9{n:07d}", True), 1)
        kinds.append(status)
    assert kinds == [200] * 5 + [429] * 7
    [(status, headers, _)] = responses(
        served_twice, lookup_request("programme=p2020&receipt_number=00000002", True), 1)
    assert status == 429 and int(headers["Retry-After"]) > 0


def _raw(head: list[str], body: bytes = b"") -> bytes:
    return "\r\n".join(["POST /lookup HTTP/1.1", "Host: 127.0.0.1",
                        f"Content-Type: {FORM}", *head, "", ""]).encode() + body


def test_smuggling_shaped_lookups_are_refused_before_the_io_thread_answers(served):
    """The I/O thread answers only what waitress parsed whole (public_mirror.serve): two
    Content-Lengths, or one beside Transfer-Encoding, are waitress's 400 and the connection
    ends — the bytes after them are never read as a second lookup; a chunked body is read as
    its chunks; a body over the form's bound is the page's own "could not be read"."""
    body = b"programme=p2020&receipt_number=00000002"
    smuggled = lookup_request("programme=p2020&receipt_number=00000003")
    for head in ([f"Content-Length: {len(body)}", f"Content-Length: {len(body) + 5}"],
                 [f"Content-Length: {len(body)}", "Transfer-Encoding: chunked"]):
        with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
            sock.sendall(_raw(head, body) + smuggled)
            received = b""
            while chunk := sock.recv(65536):   # until the server closes the connection
                received += chunk
        assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n"), received[:200]
        assert received.count(b"HTTP/1.1 ") == 1   # no answer to the smuggled lookup
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    [(status, _, page)] = responses(served, _raw(["Transfer-Encoding: chunked"], chunked), 1)
    assert status == 200 and "振込予定です".encode() in page
    too_long = b"programme=p2020&receipt_number=00000002&x=" + b"y" * 5000
    [(status, _, page)] = responses(
        served, _raw([f"Content-Length: {len(too_long)}"], too_long), 1)
    assert status == 400 and "読み取れませんでした".encode() in page
