"""Throwaway databases for the tests: SQLite files and a real PostgreSQL cluster.

The PostgreSQL cluster is made with initdb in a temporary directory and started with
pg_ctl on a free loopback port; it never touches a server the machine already runs.
Each test gets a fresh database copied from a migrated template, so tests see real
commits and rollbacks, exactly as the app does.
"""

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

_counter = itertools.count()


# Test servers listen on ports below the kernel's ephemeral range (32768-60999 here), in a
# block of their own per pytest-xdist worker: no outgoing connection can be given one as its
# source port between the pick and the server's bind, and no other worker picks it.
PORT_BLOCK, FIRST_PORT, BLOCKS = 1500, 20000, 8
_next_port = itertools.count()


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")   # gw0, gw1 … under pytest-xdist
    index = int(worker[2:]) + 1 if worker[2:].isdigit() else 0
    block_start = FIRST_PORT + (index % BLOCKS) * PORT_BLOCK
    for _ in range(PORT_BLOCK):
        port = block_start + (os.getpid() * 7 + next(_next_port)) % PORT_BLOCK
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # held by another run on this machine: the next one
            return port
    raise RuntimeError(f"no free port in {block_start}-{block_start + PORT_BLOCK - 1}")


def postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.insert(0, Path(os.path.realpath(found)).parent)
    return next((c for c in candidates if (c / "pg_ctl").exists()), None)


class PostgresCluster:
    def __init__(self, bindir: Path, prefix=(), listen="127.0.0.1", options=""):
        self.bindir = bindir
        # More server settings ("-c name=value ..."), after the defaults below (they win).
        self.options = options
        # e.g. ("ip", "netns", "exec", NAME): the server then lives in that namespace.
        self.prefix, self.listen = list(prefix), listen
        self.root = Path(tempfile.mkdtemp(prefix="shinsei-pg-"))
        self.port = free_port()
        self.data = self.root / "data"
        # initdb refuses to run as root: hand the directory to an unprivileged account.
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = _unprivileged_user()
            account = pwd.getpwnam(self.run_as)
            os.chown(self.root, account.pw_uid, account.pw_gid)

    def _run(self, *args):
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run([*self.prefix, *command], capture_output=True, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n"
                               f"{done.stderr.decode(errors='replace')}")

    def start(self):
        self._run("initdb", "-D", str(self.data), "-U", "shinsei", "--auth=trust",
                  "-E", "UTF8", "--locale=C")
        return self.serve()

    def serve(self):
        """Start the server on the data directory as it is."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses='{self.listen}' "
                   "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                   f"-c max_connections=200 {self.options}")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.root / "server.log"), "start")
        return self

    def stop(self):
        try:
            self.halt()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def halt(self):
        """The server gone at once, as when its host loses power (no shutdown checkpoint);
        the data directory is kept."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def standby_of(self, conninfo: str, *extra: str):
        """This cluster made from another's base backup (``pg_basebackup -R``: it starts as
        a streaming standby of it), then started."""
        self._run("pg_basebackup", "-d", conninfo, "-D", str(self.data), "-R", "-X", "stream",
                  "-c", "fast", *extra)
        return self.serve()

    def socket_url(self, database="postgres", user="shinsei"):
        """Through its Unix socket, as the installed apps reach the local server."""
        return f"postgresql+psycopg://{user}@/{database}?host={self.root}&port={self.port}"

    def sql(self, statement: str, database="postgres") -> list[tuple]:
        """One statement as the superuser through the socket; the rows it returns."""
        import psycopg

        with psycopg.connect(host=str(self.root), port=self.port, user="shinsei",
                             dbname=database, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def url(self, database="postgres"):
        if not self.listen:  # unix socket only: reachable from any network namespace
            return f"postgresql+psycopg://shinsei@/{database}?host={self.root}&port={self.port}"
        return f"postgresql+psycopg://shinsei@127.0.0.1:{self.port}/{database}"

    def admin(self, sql):
        import psycopg

        host = self.root if not self.listen else "127.0.0.1"
        with psycopg.connect(f"host={host} port={self.port} user=shinsei dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql)


def _unprivileged_user():
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged account (postgres or nobody) to run initdb as")


class SqliteTemplate:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="shinsei-sqlite-"))
        self.template = self.root / "template.sqlite"

    def url(self, path=None):
        return f"sqlite:///{path or self.template}"

    def fresh(self) -> str:
        path = self.root / f"test-{next(_counter)}.sqlite"
        shutil.copyfile(self.template, path)
        return self.url(path)

    def stop(self):
        shutil.rmtree(self.root, ignore_errors=True)


def fresh_postgres_database(cluster: PostgresCluster) -> tuple[str, str]:
    name = f"test_{os.getpid()}_{next(_counter)}"
    cluster.admin(f"CREATE DATABASE {name} TEMPLATE shinsei_template")
    return name, cluster.url(name)


def wait_until_listening(process: subprocess.Popen, port: int, what: str, log=None,
                         timeout: float = 60.0) -> None:
    """Until ``process`` accepts connections on loopback ``port``. A server that exits (a port
    taken, a bad config) is named at once with its log; one that never listens is stopped
    before the error, so no test leaves it running. The wait is long because a loaded machine
    is slow to start things, never because a test measures time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} ended with {process.returncode} before listening on "
                               f"{port}:\n{_log_text(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    process.terminate()
    process.wait(10)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout:.0f} s:\n{_log_text(log)}")


def _log_text(log) -> str:
    if log is None:
        return "(no log)"
    return Path(log).read_text(errors="replace")[-3000:] if Path(log).exists() else "(no log yet)"
