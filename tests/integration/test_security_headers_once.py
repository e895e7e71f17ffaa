"""Each security header once, on every kind of answer that comes through the shipped nginx
sites in front of the real apps: the apps' pages, redirects and errors, nginx's static files,
its own refusals and error pages, the public host's port-80 redirect. nginx sends them (the
apps' own copies, for running without nginx, are dropped by ``proxy_hide_header``), with the
values the apps would send themselves."""

import http.client
import socket
import ssl
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest

from intranet.web import SECURITY_HEADERS as INTRANET_HEADERS
from lab.databases import free_port
from lab.deploy_sites import SAMPLE, nginx_config, serving
from lab.servers import WaitressThread
from public_mirror.web import SECURITY_HEADERS as MIRROR_HEADERS

SERVER_NAME = SAMPLE["SERVER_NAME"]
ONCE = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
# Only the app knows its pages' policy: at most once, from the app, never from nginx.
AT_MOST_ONCE = ("Content-Security-Policy", "Permissions-Policy", "Cache-Control")
HSTS = "Strict-Transport-Security"


def ask(port, method, path, body=b"", headers=None, tls=True):
    """(status, every header line as (name, value)) for one request."""
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
        connection.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
                                              server_hostname=SERVER_NAME)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", SERVER_NAME)
        for name, value in {**({"Content-Length": str(len(body))} if method == "POST" else {}),
                            **(headers or {})}.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheaders()
    finally:
        connection.close()


def check_once(answer, app_values, tls=True):
    status, headers = answer
    for name in ONCE + ((HSTS,) if tls else ()):
        sent = [value for header, value in headers if header.lower() == name.lower()]
        assert len(sent) == 1, f"HTTP {status}: {name} sent {len(sent)} times: {headers}"
        if name in app_values:
            assert sent[0] == app_values[name], f"nginx and the app disagree on {name}"
    for name in AT_MOST_ONCE:
        sent = [value for header, value in headers if header.lower() == name.lower()]
        assert len(sent) <= 1, f"HTTP {status}: {name} sent {len(sent)} times: {headers}"
    return status


@contextmanager
def site(directory, name, app=None):
    """The shipped site on free ports in front of ``app`` (none: the app is down)."""
    with WaitressThread(app) if app else _nothing() as server:
        https, http = free_port(), free_port()
        config = nginx_config(directory, name, port=https, http_port=http,
                              backend=server.port if server else free_port())
        with serving(config, https):
            yield https, http


@contextmanager
def _nothing():
    yield None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_intranet_each_header_once(app_with, tmp_path):
    app = app_with(**{"shinsei.allowed_hosts": SERVER_NAME}).app
    with site(tmp_path / "up", "intranet", app) as (port, _):
        assert check_once(ask(port, "GET", "/login"), INTRANET_HEADERS) == 200
        assert check_once(ask(port, "GET", "/"), INTRANET_HEADERS) in (302, 303)  # the app's
        assert check_once(ask(port, "GET", "/no-such-page"), INTRANET_HEADERS) == 404
        assert check_once(ask(port, "GET", "/static/intranet.css"), INTRANET_HEADERS) == 200
        assert check_once(ask(port, "GET", "/static/missing.css"), INTRANET_HEADERS) == 404
        # nginx's own refusal, before the body is read: its Japanese 413 page.
        assert check_once(ask(port, "POST", "/imports", headers={
            "Content-Length": str(60 * 1024 * 1024)}), INTRANET_HEADERS) == 413
    with site(tmp_path / "down", "intranet") as (port, _):        # the app is down: 502 page
        assert check_once(ask(port, "GET", "/login"), INTRANET_HEADERS) == 502


def test_public_host_each_header_once(public_host, tmp_path):
    public_host.publish()
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"}).app
    form = urlencode({"programme": "p2020", "receipt_number": "00000099", "lang": "ja"}).encode()
    posted = {"Content-Type": "application/x-www-form-urlencoded"}
    with site(tmp_path / "up", "mirror", app) as (port, http):
        assert check_once(ask(port, "GET", "/"), MIRROR_HEADERS) == 200
        assert check_once(ask(port, "POST", "/lookup", form, posted), MIRROR_HEADERS) == 200
        assert check_once(ask(port, "GET", "/healthz"), MIRROR_HEADERS) in (200, 503)
        assert check_once(ask(port, "GET", "/no-such-page"), MIRROR_HEADERS) == 404
        assert check_once(ask(port, "GET", "/static/mirror.css"), MIRROR_HEADERS) == 200
        assert check_once(ask(port, "GET", "/static/missing.css"), MIRROR_HEADERS) == 404
        # nginx refuses the size; its static Japanese page answers (error_page 413).
        assert check_once(ask(port, "POST", "/lookup", b"receipt_number=" + b"1" * 20_000,
                              posted), MIRROR_HEADERS) == 413
        assert check_once(ask(http, "GET", "/", tls=False), MIRROR_HEADERS, tls=False) == 301
    with site(tmp_path / "down", "mirror") as (port, _):          # static "unavailable" page
        assert check_once(ask(port, "GET", "/"), MIRROR_HEADERS) == 502
