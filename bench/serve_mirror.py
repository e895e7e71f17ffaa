"""Serve the mirror (or a bare WSGI app doing the same lookup) for the benchmark.

    serve_mirror.py CONFIG PORT [--processes N] [--threads T] [--switch-interval S] [--bare]
                    [--bare-bytes B] [--hand-off] [--send-bytes N]

``--bare-bytes``: the bare app answers a page of that many bytes with the mirror's
headers — the same bytes on the wire as the mirror's answer page, so that the floor
differs from the mirror only in the work done, not in what is sent (wrk shares the cores).
``--hand-off``: waitress as it comes — every request handed to a worker thread, the
response sent by the I/O thread (the shipped server answers POST /lookup in the I/O
thread, ``public_mirror.serve``); ``--send-bytes``: waitress's option of that name.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyramid.paster import get_appsettings

from public_mirror.serve import serve


def bare_app(settings, page_bytes=0, kept=False):
    """The floor: parse the form, hash, bisect, answer a fixed page. No framework.
    ``kept``: its headers begin with a tuple registered as kept (``web.kept_headers``), so
    that the server builds its header block once, as it does for the mirror's pages."""
    from urllib.parse import parse_qs

    from public_mirror.settings import load
    from public_mirror.store import ActiveSnapshot
    from public_mirror.web import SECURITY_HEADERS, kept_headers
    from transfer.lookup import lookup_key

    headers = [*SECURITY_HEADERS.items(), ("Cache-Control", "no-store")]
    loaded = load(dict(settings))
    active = ActiveSnapshot(loaded["mirror.paths"].active, loaded["mirror.policy"])
    secret = loaded["mirror.lookup_secret"]
    kept_block = kept_headers([("Content-Type", "text/html"), *headers]) if kept else ()

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode())
        entry = active.current().table.find(
            lookup_key(secret, form["programme"][0], form["receipt_number"][0]))
        body = f"<html><body><p>{'found' if entry else 'not found'}</p></body></html>".encode()
        if page_bytes:
            body = body.ljust(page_bytes, b" ")
        if kept:
            start_response("200 OK", [*kept_block, ("Content-Length", str(len(body)))])
        else:
            start_response("200 OK", [("Content-Type", "text/html"),
                                      ("Content-Length", str(len(body))),
                                      *(headers if page_bytes else ())])
        return [body]

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("port", type=int)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--switch-interval", type=float)
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--bare-bytes", type=int, default=0)
    parser.add_argument("--bare-kept", action="store_true",
                        help="the bare app's headers kept: the server's header block once")
    parser.add_argument("--hand-off", action="store_true")
    parser.add_argument("--send-bytes", type=int)
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    settings = get_appsettings(args.config)

    def make_app():
        if args.bare:
            return bare_app(settings, args.bare_bytes, args.bare_kept)
        from public_mirror import main

        return main({}, **settings)

    options = {"send_bytes": args.send_bytes} if args.send_bytes else {}
    # wrk stands where nginx stands (one address, up to 64 connections): not bound per
    # address, as the trusted proxy is not — else connections past 16 per process are
    # closed as they come and every cell measures reconnecting.
    options["per_address"] = 1_000_000
    serve(make_app, [("127.0.0.1", args.port)], args.processes, args.threads,
          **({"at_once": frozenset()} if args.hand_off else {}), **options)
