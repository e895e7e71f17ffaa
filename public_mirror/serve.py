"""Serving the residents' page on several processes that share one port (SO_REUSEPORT).

On two cores, one waitress process collapses at 2-4 connections (its I/O thread and its
workers hand the GIL back and forth); two processes, each with two threads, bound to the
same port with SO_REUSEPORT let the kernel spread connections and keep every core busy.
Each process holds its own copy of the snapshot (about 105 MB for 5 million entries).

The ini's ``[server:main]`` is honoured as ``pserve`` would: its listen address and, above
all, the proxy settings. Behind nginx and TLS, waitress must trust ``X-Forwarded-Proto``
from the proxy, or the page's form posts to ``http://`` and the browser refuses to send it
(CSP ``form-action 'self'``): no resident could look anything up.
"""

import logging
import os
import socket

from plaster import get_settings
from waitress.server import create_server

# What waitress reads from [server:main] besides the address (its own option names).
PROXY_OPTIONS = ("trusted_proxy", "trusted_proxy_count", "trusted_proxy_headers",
                 "clear_untrusted_proxy_headers", "url_scheme", "url_prefix", "ident")


def server_options(config_uri: str) -> tuple[str, int, dict]:
    """(host, port, waitress options) from the ini's [server:main]."""
    server = get_settings(config_uri, "server:main")
    host, _, port = server.get("listen", "127.0.0.1:6544").rpartition(":")
    options = {name: server[name] for name in PROXY_OPTIONS if name in server}
    return host.strip("[]") or "127.0.0.1", int(port), options


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def default_processes() -> int:
    """One process per core this server may run on (its CPU affinity, so a container or
    a systemd ``CPUAffinity=`` limit counts, not the host's cores)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:      # no affinity call on this platform
        return max(1, os.cpu_count() or 1)


def serve(make_app, host: str, port: int, processes: int | None = None, threads: int = 2,
          **options) -> None:
    """Fork ``processes - 1`` times (default: one process per core); each process builds
    its own app and serves the port. ``options`` are waitress's own (``server_options``)."""
    for _ in range((processes or default_processes()) - 1):
        if os.fork() == 0:
            break
    # Under overload waitress logs its queue depth on every request; the load is the point.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(make_app(), sockets=[listening_socket(host, port)], threads=threads,
                           connection_limit=1000, asyncore_use_poll=True, **options)
    server.run()
