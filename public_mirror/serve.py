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
(CSP ``form-action 'self'``): no resident could look anything up. ``listen`` may name several
addresses, IPv6 ones in brackets (``127.0.0.1:6544 [::1]:6544``).

It is meant to sit behind nginx; reached directly, one client can still neither stall the
others nor take every connection (issue 25): the I/O thread answers at most one request of
a connection per read — pipelined ones after it go to the worker threads, which take one
request of a connection at a time in turn (a client that pipelined 200 lookups at a time
made everyone else wait for all of them) — and each address other than a trusted proxy
holds at most ``PER_ADDRESS`` connections per process (1,100 idle connections from one
address reached waitress's connection limit and shut everyone out); idle connections are
closed after ``channel_timeout`` (30 s in deploy/mirror.ini).
"""

import logging
import os
import socket
import threading
from typing import ClassVar

from plaster import get_settings
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import WSGITask
from waitress.utilities import build_http_date

from public_mirror.web import KEPT_HEADERS

# What waitress reads from [server:main] besides the address (its own option names).
PROXY_OPTIONS = ("trusted_proxy", "trusted_proxy_count", "trusted_proxy_headers",
                 "clear_untrusted_proxy_headers", "url_scheme", "url_prefix", "ident",
                 "connection_limit", "channel_timeout", "cleanup_interval")
PER_ADDRESS = 16   # connections one address (not a trusted proxy) may hold per process


def server_options(config_uri: str) -> tuple[list[tuple[str, int]], dict]:
    """([(host, port), …], waitress options) from the ini's [server:main]."""
    server = get_settings(config_uri, "server:main")
    options = {name: server[name] for name in PROXY_OPTIONS if name in server}
    return addresses(server.get("listen", "127.0.0.1:6544")), options


def addresses(listen: str) -> list[tuple[str, int]]:
    """``127.0.0.1:6544 [::1]:6544`` → [("127.0.0.1", 6544), ("::1", 6544)]."""
    found = []
    for address in listen.split():
        host, _, port = address.rpartition(":")
        if not port.isdigit():
            raise ValueError(f"[server:main] listen: {address!r} is not host:port "
                             "(an IPv6 address in brackets: [::1]:6544)")
        found.append((host.strip("[]") or "127.0.0.1", int(port)))
    return found


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET6:   # [::] means IPv6 only; IPv4 is listed on its own
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
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


BLOCKS_KEPT = 256   # header blocks a process keeps (page kinds × lengths × versions), then afresh


class KeptHeaderTask(WSGITask):
    """Waitress's task, with the response's header block made once per kind of page: for
    header lists that begin as the app registered (``web.kept_headers``), waitress's own
    ``build_response_header`` runs the first time for each combination of everything it
    reads (every header and value, the status, the HTTP version, the request's Connection
    header, the body's length, whether the connection closes, the server's name), and its
    bytes are kept with only the Date put in afresh — the same bytes, without normalising,
    sorting and formatting ten headers per response."""

    blocks: ClassVar[dict] = {}   # shared by every task of the process
    date: ClassVar[tuple[int, bytes]] = (-1, b"")

    def build_response_header(self):
        headers = self.response_headers
        if not headers or id(headers[0]) not in KEPT_HEADERS:
            return super().build_response_header()
        key = (tuple(headers), self.status, self.version,
               self.request.headers.get("CONNECTION", ""), self.content_length,
               self.close_on_finish, self.channel.server.adj.ident)
        date = self._date()
        block = self.blocks.get(key)
        if block is None:
            whole = super().build_response_header()
            before, found, after = whole.partition(b"\r\nDate: " + date + b"\r\n")
            if not found:   # the app gave a Date of its own: nothing to keep
                return whole
            block = (before + b"\r\nDate: ", b"\r\n" + after, self.close_on_finish,
                     self.chunked_response)
            if len(self.blocks) >= BLOCKS_KEPT:
                KeptHeaderTask.blocks = {}
            KeptHeaderTask.blocks[key] = block
            return whole
        # (The normalised header list waitress would leave in response_headers is read by
        # nothing once the block is written.)
        before, after, self.close_on_finish, self.chunked_response = block
        return before + date + after

    def _date(self) -> bytes:
        """The Date header's value, as waitress writes it, made once a second."""
        second, text = KeptHeaderTask.date
        now = int(self.start_time)
        if second != now:
            text = build_http_date(now).encode("latin-1")
            KeptHeaderTask.date = (now, text)
        return text


class AtOnceChannel(HTTPChannel):
    """A connection whose ``AT_ONCE`` requests the I/O thread answers itself, one per read."""

    task_class = KeptHeaderTask

    serve_here = False   # set by ``answer_at_once``'s add_task: answer before reading on
    answering = False    # the I/O thread is answering this connection's request now

    def handle_read(self):
        super().handle_read()        # parses; a complete request is "added as a task"
        if self.serve_here:
            self.serve_here, self.answering = False, True
            try:
                self.service()       # one: a pipelined request after it goes to the workers
            finally:
                self.answering = False
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
                and not getattr(channel, "answering", False)
                and (request.command, request.path) in at_once):
            channel.serve_here = True
        else:
            hand_off(channel)

    def pull_trigger():
        if threading.get_ident() != io_thread:   # the I/O thread is awake: it is us
            wake()

    server.channel_class = AtOnceChannel
    server.add_task, server.pull_trigger = add_task, pull_trigger


def bound_per_address(server, limit: int, exempt: frozenset) -> None:
    """A connection from an address that holds ``limit`` already is closed as it is accepted
    (one log line per address until it is under the bound again); ``exempt``: the proxies."""
    accept, refused = server.accept, set()

    def accept_within_bound():
        pair = accept()
        if pair is None or pair[1][0] in exempt:
            return pair
        host = pair[1][0]
        held = sum(1 for channel in list(server._map.values())
                   if isinstance(channel, HTTPChannel) and channel.addr[0] == host)
        if held < limit:
            refused.discard(host)
            return pair
        if host not in refused:
            refused.add(host)
            logging.getLogger(__name__).warning(
                "%s holds %d connections: more are closed as they come", host, held)
        pair[0].close()
        return None

    server.accept = accept_within_bound


def listeners(server) -> list:
    """The waitress server per listening socket (several share one map)."""
    inner = [each for each in getattr(server, "map", {}).values()
             if isinstance(each, BaseWSGIServer)]
    return inner or [server]


def serve(make_app, listen: list[tuple[str, int]], processes: int | None = None,
          threads: int = 2, at_once=AT_ONCE, per_address: int = PER_ADDRESS,
          **options) -> None:
    """Fork ``processes - 1`` times (default: one process per core); each process builds
    its own app and serves the addresses. ``options`` are waitress's own (``server_options``);
    ``at_once``: the (method, path) the I/O thread answers itself (empty: none)."""
    for _ in range((processes or default_processes()) - 1):
        if os.fork() == 0:
            break
    # Under overload waitress logs its queue depth on every request; the load is the point.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    options = {"send_bytes": SEND_BYTES, "connection_limit": 1000, **options}
    server = create_server(make_app(), sockets=[listening_socket(*each) for each in listen],
                           threads=threads, asyncore_use_poll=True, **options)
    exempt = frozenset(str(options.get("trusted_proxy", "")).split())
    for each in listeners(server):
        if at_once:
            answer_at_once(each, at_once)
        bound_per_address(each, per_address, exempt)
    server.run()
