"""Serving the residents' page on several processes that share one port (SO_REUSEPORT).

On two cores, one waitress process collapses at 2-4 connections (its I/O thread and its
workers hand the GIL back and forth); two processes, each with two threads, bound to the
same port with SO_REUSEPORT let the kernel spread connections and keep every core busy.
Each process holds its own copy of the snapshot (about 105 MB for 5 million entries).
"""

import logging
import os
import socket

from waitress.server import create_server


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def serve(make_app, host: str, port: int, processes: int = 2, threads: int = 2) -> None:
    """Fork ``processes - 1`` times; each process builds its own app and serves the port."""
    for _ in range(processes - 1):
        if os.fork() == 0:
            break
    # Under overload waitress logs its queue depth on every request; the load is the point.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(make_app(), sockets=[listening_socket(host, port)], threads=threads,
                           connection_limit=1000, asyncore_use_poll=True)
    server.run()
