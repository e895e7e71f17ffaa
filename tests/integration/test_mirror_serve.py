"""`shinsei-mirror serve` (what shinsei-mirror-web.service runs) honours the ini's
[server:main] (listen address, the proxy it trusts), and behind nginx and TLS the residents'
form never posts to http://, which the browser's CSP (form-action 'self') would block."""

import configparser
import http.client
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.databases import free_port

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
    public_host.publish()
    port = free_port()
    ini = tmp_path / "mirror.ini"
    lines = ["[app:main]", "use = egg:shinsei-status#mirror"]
    lines += [f"{key} = {value}" for key, value in public_host.settings.items()]
    lines += ["", "[server:main]"]
    lines += [f"{key} = {value}" for key, value in shipped_server_section(port).items()]
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # No --host/--port: the listen address comes from the ini, as in the unit.
    process = subprocess.Popen([str(BIN / "shinsei-mirror"), "-c", str(ini), "serve",
                                "--processes", "1", "--threads", "2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
        process.kill()
        pytest.fail(f"shinsei-mirror serve did not listen: {process.stderr.read().decode()}")
    yield port
    process.terminate()
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
