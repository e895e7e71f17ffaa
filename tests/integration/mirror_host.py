"""A public host driven as an operator would: the ``shinsei-mirror`` command, real HTTP."""

import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from public_mirror import activation_log

COMMAND = str(Path(sys.executable).parent / "shinsei-mirror")


def mirror_cli(host, *args, timeout=60, **overrides) -> subprocess.CompletedProcess:
    ini = host.write_ini(**overrides)
    return subprocess.run([COMMAND, "-c", str(ini), *args], capture_output=True, text=True,
                          timeout=timeout)


def no_traceback(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def outcomes(host) -> list[str]:
    return [r["outcome"] for r in activation_log.records(host.root / "state" / "activation.log")]


def active_sequence(host) -> int | None:
    from transfer.snapshot import parse

    path = host.root / "state" / "active.snapshot"
    return parse(path.read_bytes()).header["sequence"] if path.exists() else None


def request(port, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


def post_form(port, fields, path="/lookup", headers=None):
    return request(port, "POST", path, urlencode(fields).encode(),
                   {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def post_json(port, body: bytes | dict, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request(port, "POST", "/api/v1/lookup", raw,
                   {"Content-Type": "application/json", **(headers or {})})


def wait_until(condition, timeout=20.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    raise AssertionError("condition not met in time")
