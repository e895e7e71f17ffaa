"""Serving the residents' page on several processes that share one port (SO_REUSEPORT).

On two cores, one waitress process collapses at 2-4 connections (its I/O thread and its
workers hand the GIL back and forth); two processes, each with two threads, bound to the
same port with SO_REUSEPORT let the kernel spread connections and keep every core busy.
Each process holds its own copy of the snapshot (about 145 MB for 5 million entries).

Requests the app answers in microseconds (``AT_ONCE``: the lookup's fast path) are
answered by waitress's I/O thread itself, as an event loop would, rather than handed to a
worker thread and back: each hand-off is a GIL switch (up to 5 ms when the other thread
is busy) and a wake-up through a pipe, and at 64 connections they were most of the
server's time. Everything else (pages rendered by Pyramid, static files) still goes to
the worker threads. Sent as one buffer: status line, headers and body in one ``send``.

The ini's ``[server:main]`` is honoured as ``pserve`` would: its listen address and, above
all, the proxy settings. Behind nginx and TLS, waitress must trust ``X-Forwarded-Proto``
from the proxy, or the page's form posts to ``http://`` and the browser refuses to send it
(CSP ``form-action 'self'``): no resident could look anything up.
"""

import logging
import os
import socket
import threading

from plaster import get_settings
from waitress.channel import HTTPChannel
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


# (method, path) the app answers without waiting on anything: served in the I/O thread.
AT_ONCE = frozenset({("POST", "/lookup")})
# Waitress sends a response as the app writes it when send_bytes is 1 (its default): the
# headers in one send, the body in another. Kept whole, it goes out in one.
SEND_BYTES = 65536


class AtOnceChannel(HTTPChannel):
    """A connection whose ``AT_ONCE`` requests the I/O thread answers itself."""

    serve_here = False   # set by ``AtOnceServer.add_task``: answer before reading on

    def handle_read(self):
        super().handle_read()        # parses; a complete request is "added as a task"
        while self.serve_here:       # a pipelined request after it may be one too
            self.serve_here = False
            self.service()
        if self.total_outbufs_len and not self.requests:
            self.handle_write()      # now, rather than after one more poll


def answer_at_once(server, at_once=AT_ONCE) -> None:
    """Make ``server`` (waitress's) answer ``at_once`` requests in its I/O thread: call from
    the thread that will run it."""
    io_thread = threading.get_ident()
    hand_off, wake = server.add_task, server.pull_trigger

    def add_task(channel):
        request = channel.requests[0]
        if (threading.get_ident() == io_thread and not request.error
                and (request.command, request.path) in at_once):
            channel.serve_here = True
        else:
            hand_off(channel)

    def pull_trigger():
        if threading.get_ident() != io_thread:   # the I/O thread is awake: it is us
            wake()

    server.channel_class = AtOnceChannel
    server.add_task, server.pull_trigger = add_task, pull_trigger


def serve(make_app, host: str, port: int, processes: int | None = None, threads: int = 2,
          at_once=AT_ONCE, **options) -> None:
    """Fork ``processes - 1`` times (default: one process per core); each process builds
    its own app and serves the port. ``options`` are waitress's own (``server_options``);
    ``at_once``: the (method, path) the I/O thread answers itself (empty: none)."""
    for _ in range((processes or default_processes()) - 1):
        if os.fork() == 0:
            break
    # Under overload waitress logs its queue depth on every request; the load is the point.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    options = {"send_bytes": SEND_BYTES, **options}
    server = create_server(make_app(), sockets=[listening_socket(host, port)], threads=threads,
                           connection_limit=1000, asyncore_use_poll=True, **options)
    if at_once:
        answer_at_once(server, at_once)
    server.run()
