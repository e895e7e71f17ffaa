"""`shinsei-mirror serve` sizes itself to the machine: one process per usable core; its
header blocks kept per kind of page are waitress's own."""

import os

import pytest

from public_mirror import cli, serve


def test_one_process_per_core_the_server_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert serve.default_processes() == 3


def test_serve_defaults_to_the_cores_and_keeps_an_explicit_count(monkeypatch):
    forks = []
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or 1)   # 1: stay the parent

    class Server:
        def run(self):
            pass

        def add_task(self, channel):
            pass

        def pull_trigger(self):
            pass

        def accept(self):
            return None

    monkeypatch.setattr(serve, "create_server", lambda *a, **k: Server())
    monkeypatch.setattr(serve, "listening_socket", lambda host, port: None)
    serve.serve(lambda: None, [("127.0.0.1", 0)])
    assert len(forks) == 3                          # 4 cores: the parent and 3 children
    forks.clear()
    serve.serve(lambda: None, [("127.0.0.1", 0)], processes=2)
    assert len(forks) == 1
    args = cli._parser().parse_args(["serve"])
    assert args.processes is None                   # the command leaves it to serve()


def _task(kind, raw: bytes, status: str, headers, start_time: float):
    """A waitress task of ``kind`` for the request ``raw``, its app having answered."""
    from waitress.adjustments import Adjustments
    from waitress.parser import HTTPRequestParser

    adj = Adjustments()
    request = HTTPRequestParser(adj)
    request.received(raw)

    class Channel:
        server = type("Server", (), {"adj": adj})()

    task = kind(Channel(), request)
    task.start_time, task.status, task.complete = start_time, status, True
    for name, value in headers:   # as start_response notes them
        if name.lower() == "content-length":
            task.content_length = int(value)
    task.response_headers.extend(headers)
    return task


REQUESTS = [b"POST /lookup HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST /lookup HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            b"POST /lookup HTTP/1.0\r\nHost: a\r\n\r\n",
            b"POST /lookup HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"]


@pytest.mark.parametrize("raw", REQUESTS)
def test_a_kept_header_block_is_the_block_waitress_builds(raw):
    """Every page kind, body length and connection kind, twice each (made, then kept),
    across a change of second: byte for byte what waitress's own task writes."""
    from waitress.task import WSGITask

    from public_mirror.pages import Page
    from public_mirror.serve import KeptHeaderTask

    pages = [Page(200, b"x" * 2189), Page(200, b"x" * 2190), Page(400, b"form"),
             Page(429, b"wait", (("Retry-After", "61"),)), Page(503, b"")]
    for moment in (1_800_000_000.2, 1_800_000_000.9, 1_800_000_001.0, 1_800_000_000.5):
        for page in pages:
            status = f"{page.status} {page.status_line.split(' ', 1)[1]}"
            plain = _task(WSGITask, raw, status, page.headers(), moment)
            kept = _task(KeptHeaderTask, raw, status, page.headers(), moment)
            assert kept.build_response_header() == plain.build_response_header()
            assert (kept.close_on_finish, kept.chunked_response) == \
                (plain.close_on_finish, plain.chunked_response)
