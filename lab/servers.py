"""Real servers for integration tests: the WSGI app on waitress, on a free loopback port."""

import socket
import threading
import time

from waitress import wasyncore
from waitress.server import create_server

from lab.databases import free_port

SERVING_GRACE = 60  # seconds a request under way when the test ends has to finish


class WaitressThread:
    def __init__(self, app, **options):
        """``options``: waitress settings beyond the listening address (e.g. deploy/'s
        trusted_proxy lines)."""
        self.port = free_port()
        self.server = create_server(app, host="127.0.0.1", port=self.port,
                                    **{"threads": 4, **options})
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.server.run()
        except OSError:
            # Closing the server under its poll loop ends the loop with EBADF: expected.
            if not self.closing:
                raise

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("waitress did not start")

    def __exit__(self, *exc):
        self.closing = True
        # The requests still being served (a browser's last click, a client that gave up)
        # end first, their responses written: the test's fixtures dispose of the app's
        # engine next, and a connection handed back after that stays open in the discarded
        # pool until the garbage collector finds it, in whichever later test is running
        # (psycopg's "deleted while still open"). The join below gave up after 5 s, which
        # a request outlasts on a loaded machine.
        dispatcher = self.server.task_dispatcher
        dispatcher.shutdown(cancel_pending=False, timeout=SERVING_GRACE)
        # Every socket closed, the clients' connections too (as waitress's own multi-socket
        # server closes): closing only the listening one left a client's connection the
        # loop had not closed yet to the garbage collector, an unclosed socket in a later test.
        wasyncore.close_all(self.server._map)
        self.thread.join(timeout=5)
        if dispatcher.threads:
            raise RuntimeError(f"a request was still being served {SERVING_GRACE} s after "
                               "the server was told to stop")
