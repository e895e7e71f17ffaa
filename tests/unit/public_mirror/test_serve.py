"""`shinsei-mirror serve` sizes itself to the machine: one process per usable core."""

import os

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
