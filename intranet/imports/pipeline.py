"""The order of an import's database work: each chunk's lookups, then its write.

A chunk's lookups ask only for its own receipt numbers, and a number appears once in a file
(plan._parse_rows refuses the second), so no chunk's write holds a row another chunk looks
up: a chunk's lookups give the same answer before or after the chunks planned before it
are written. ``Background`` uses that to keep PostgreSQL busy: it runs every task on one
thread, in the order given, and the plan asks for the next chunk's lookups before it
writes the current one — while Python compares a chunk, the server is writing the one
before (docs/performance.md, the import section). ``Inline`` runs every task in the
caller's order of need: a chunk's lookups when their answer is asked for, after every
earlier write — the plain way, and SQLite's (its writing is in this process: a thread
there only trades the GIL).

While a task runs on Background's thread the caller compares with what it already holds
(the catalogue and the 不備の種類, loaded eagerly before the first chunk) and never uses
the session or the connection: only the tasks do.
"""

from concurrent.futures import Future, ThreadPoolExecutor


class Inline:
    """Writes done before ``submit`` returns; lookups run when their answer is asked for."""

    def submit(self, function, *args):
        function(*args)

    def look_up(self, function, *args):
        return _Later(function, args)

    def wait(self):
        pass

    def close(self):
        pass


class _Later:
    def __init__(self, function, args):
        self._call = (function, args)

    def result(self):
        function, args = self._call
        return function(*args)


class Background:
    """Every task on one thread of its own, one at a time, in the order given, on the
    import's one connection (nothing else touches it until ``wait`` returns). The database
    driver releases the GIL while the server works, so the server's work and Python's
    overlap. After a task fails, the tasks queued behind it do not run: each raises that
    first error, which so reaches the caller at its next wait, whichever task it waits on."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write")
        self._pending: list[Future] = []
        self._failed: BaseException | None = None

    def submit(self, function, *args):
        """A write. At most two wait their turn: memory stays a few chunks."""
        self._pending = [task for task in self._pending if not task.done()]
        while len(self._pending) > 2:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._run, function, args))

    def look_up(self, function, *args) -> Future:
        return self._pool.submit(self._run, function, args)

    def _run(self, function, args):
        if self._failed is not None:
            raise self._failed
        try:
            return function(*args)
        except BaseException as error:
            self._failed = error
            raise

    def wait(self):
        """Every task given so far done; the first failure raised."""
        self._pool.submit(lambda: None).result()
        self._pending = []
        if self._failed is not None:
            raise self._failed

    def close(self):
        """Tasks not started are dropped and the one under way finishes (its error, if any,
        is moot: the caller is already raising, and its transaction is aborted), so the
        connection is the caller's again."""
        self._pool.shutdown(wait=True, cancel_futures=True)
