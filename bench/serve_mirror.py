"""Serve the mirror (or a bare WSGI app doing the same lookup) for the benchmark.

    serve_mirror.py CONFIG PORT [--processes N] [--threads T] [--switch-interval S] [--bare]

With several processes, each binds the same port with SO_REUSEPORT and the kernel spreads
connections between them: no GIL is shared between workers.
"""

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyramid.paster import get_appsettings
from waitress.server import create_server


def bare_app(settings):
    """The floor: parse the form, hash, bisect, answer a fixed page. No framework."""
    from urllib.parse import parse_qs

    from public_mirror.settings import load
    from public_mirror.store import ActiveSnapshot
    from transfer.lookup import lookup_key

    loaded = load(dict(settings))
    active = ActiveSnapshot(loaded["mirror.paths"].active, loaded["mirror.policy"])
    secret = loaded["mirror.lookup_secret"]

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode())
        entry = active.current().table.find(
            lookup_key(secret, form["programme"][0], form["receipt_number"][0]))
        body = f"<html><body><p>{'found' if entry else 'not found'}</p></body></html>".encode()
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def listening_socket(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    return sock


def serve(args):
    # Under deliberate overload waitress logs its queue depth on every request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    settings = get_appsettings(args.config)
    if args.bare:
        app = bare_app(settings)
    else:
        from public_mirror import main

        app = main({}, **settings)
    server = create_server(app, sockets=[listening_socket(args.port)], threads=args.threads,
                           connection_limit=1000, asyncore_use_poll=True)
    server.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("port", type=int)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--switch-interval", type=float)
    parser.add_argument("--bare", action="store_true")
    arguments = parser.parse_args()
    for _ in range(arguments.processes - 1):
        if os.fork() == 0:
            break
    serve(arguments)
