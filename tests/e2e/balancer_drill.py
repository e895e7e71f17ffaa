"""Issue 29 item 3, the public side: residents' lookups through the balancer run the whole
time while public hosts are made to fail, and what they met is counted.

`Lookups` runs lab/lookup_load.py on the residents' terminal (many source addresses,
each a resident looking up every few seconds on a new HTTPS connection). `Rotation` reads the
balancer's own view (HAProxy's stats socket on the balancer host, through the host's root as
the machine sees it: no process started per look) and notes when each public host went out
and came back. A fault is a window from the moment it is made to the moment the balancer had
the host out (plus a margin for lookups already on their way): lookups that started outside
every window must all have been answered.
"""

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.hosts import LabError

CLIENT = Path(__file__).parents[2] / "lab" / "lookup_load.py"
STATS_SOCKET = "run/haproxy/admin.sock"      # deploy/balancer/haproxy.cfg, `stats socket`
# HAProxy: a check every 2 s, out after 2 failed (deploy/balancer/haproxy.cfg), each check
# given `timeout check 3s`: the guide's "about 7 seconds at most".
DETECTION_BOUND = 2 * 2 + 3
# How long a host may take to be in rotation (at the start, or once mended) before the
# drill gives up.
PUT_BACK_WAIT = 90
# What a lookup started just before the balancer took a host out may still meet: its own
# connection's wait (HAProxy's retries to that host) ends within this.
IN_FLIGHT = 4.0


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


class Lookups:
    """The residents' lookups as they run, from `terminal`, to `address` by the site's name."""

    def __init__(self, terminal, address, name, ca, sources, programme, receipt, interval=2.5):
        self.records: list[dict] = []
        self.process = subprocess.Popen(
            [*terminal.prefix(), sys.executable, str(CLIENT), "drill", "--address", address,
             "--name", name, "--ca", str(ca), "--programme", programme, "--receipt", receipt,
             "--interval", str(interval), "--sources", *sources],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.records.append(json.loads(line))

    def stop(self):
        self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.reader.join(10)
        if self.process.returncode != 0:
            raise LabError(f"the residents' lookups ended with {self.process.returncode}:\n"
                           + self.process.stderr.read()[-2000:])
        return self.records

    def answered_since(self, moment):
        return sum(1 for r in self.records if r["t"] >= moment and r["ok"])


class Rotation:
    """Which public hosts HAProxy has in rotation, looked at every `every` seconds."""

    def __init__(self, balancer, every=0.1):
        self.path = f"/proc/{balancer.init_pid}/root/{STATS_SOCKET}"
        self.every = every
        self.changes: list[tuple[float, str, str]] = []   # (moment, server, UP/DOWN/…)
        self.current: dict[str, str] = {}
        self.stopped = threading.Event()
        self.problem = ""
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def rows(self):
        """HAProxy's `show stat`, the public hosts' rows: {server: {column: value}}."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(self.path)
            sock.sendall(b"show stat\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        lines = answer.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {row["svname"]: row for row in rows
                if row.get("pxname") == "public_hosts" and row["svname"] != "BACKEND"}

    def states(self):
        """{server: "UP" / "DOWN" / …} ("UP 1/2", one check failed, is still in rotation)."""
        return {server: row["status"].split()[0] for server, row in self.rows().items()}

    def sessions(self):
        """{server: requests it was sent so far}."""
        return {server: int(row["stot"] or 0) for server, row in self.rows().items()}

    def _watch(self):
        while not self.stopped.wait(self.every):
            try:
                seen = self.states()
            except OSError as error:   # a look that failed is noted, the next one may work
                self.problem = f"{type(error).__name__}: {error}"
                continue
            moment = time.monotonic()
            for server, state in seen.items():
                if self.current.get(server) != state:
                    self.changes.append((moment, server, state))
                    self.current[server] = state

    def wait_for(self, server, state, timeout, since):
        """The first moment after `since` that `server` was seen in `state`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for moment, name, seen in self.changes:
                if name == server and seen == state and moment >= since:
                    return moment
            time.sleep(self.every)
        raise LabError(f"the balancer did not have {server} {state} within {timeout} s "
                       f"(its states: {self.current}, changes {self.changes[-6:]}, "
                       f"stats socket: {self.problem or 'read'})")

    def stop(self):
        self.stopped.set()
        self.thread.join(5)


@dataclass
class Fault:
    """One fault made during the drill: when it was made, when the balancer had the host
    out, when it was mended and when the host was back in rotation."""
    what: str
    made: float
    out: float = 0.0
    mended: float = 0.0
    back: float = 0.0

    @property
    def detection(self):
        return self.out - self.made

    @property
    def put_back(self):
        return self.back - self.mended

    def window(self):
        return self.made, self.out + IN_FLIGHT


@dataclass
class Drill:
    lookups: Lookups
    rotation: Rotation
    faults: list[Fault] = field(default_factory=list)
    calm: list[tuple[str, float, float]] = field(default_factory=list)   # no fault expected

    @contextlib.contextmanager
    def fault(self, what, server, timeout=DETECTION_BOUND * 3):
        """Make a fault in the block's first part; `mended()` then marks the host fixed.
        The host must be out of rotation before the block mends it (waited for here).
        Detection is bounded (the guide's promise); putting a mended host back is only
        recorded, so its wait is long: the host's app starts again and the agent polls,
        which a slow machine can stretch past the detection bound's multiple."""
        fault = Fault(what, time.monotonic())
        self.faults.append(fault)

        def taken_out():
            fault.out = self.rotation.wait_for(server, "DOWN", timeout, fault.made)
        yield fault, taken_out
        assert fault.out and fault.mended, f"{what}: the step must wait for {server} to be " \
                                           "taken out, then mend it"
        fault.back = self.rotation.wait_for(server, "UP", PUT_BACK_WAIT, fault.mended)

    def summary(self, records):
        windows = [f.window() for f in self.faults]
        during = [any(a <= r["t"] < b for a, b in windows) for r in records]
        outside = [r for r, d in zip(records, during, strict=True) if not d]
        inside = [r for r, d in zip(records, during, strict=True) if d]
        return {
            "lookups": len(records),
            "failed": sum(not r["ok"] for r in records),
            "failed_during_detection": sum(not r["ok"] for r in inside),
            "failed_as": dict(Counter(str(r["status"]) for r in records if not r["ok"])),
            "failed_after_detection": [r for r in outside if not r["ok"]],
            "p50_ms": percentile([r["ms"] for r in records], 0.50),
            "p99_ms": percentile([r["ms"] for r in records], 0.99),
            "calm": {what: {"lookups": sum(a <= r["t"] < b for r in records),
                            "failed": sum(a <= r["t"] < b and not r["ok"] for r in records)}
                     for what, a, b in self.calm},
            "faults": {f.what: {"detection_s": round(f.detection, 2), "put_back_s": round(f.put_back, 2),
                                "failed": sum(not r["ok"] for r in inside
                                              if f.made <= r["t"] < f.out + IN_FLIGHT)}
                       for f in self.faults},
        }


# One public host's residents' page given a clock days ahead (libfaketime, preloaded into
# that unit alone; the machine's clock is every host's): its snapshot, valid 72 hours
# (intranet.ini transfer.valid_hours), is expired for it, and its /healthz says "stale".
CLOCK_AHEAD = "/etc/systemd/system/shinsei-mirror-web.service.d/zz-drill-clock-ahead.conf"
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def clock_ahead(host, days=4):
    """The residents' app's clock set ahead at its next start (a drop-in and a reload: done
    before the fault's clock starts, the restart that makes the fault is the step's own)."""
    host.write(CLOCK_AHEAD, (f"[Service]\nEnvironment=LD_PRELOAD={FAKETIME} FAKETIME=+{days}d "
                             "DONT_FAKE_MONOTONIC=1\n").encode())
    host.run("systemctl", "daemon-reload")


def restart_web(host):
    host.run("systemctl", "restart", "shinsei-mirror-web.service")


def clock_right(host):
    host.run("rm", CLOCK_AHEAD)
    host.run("systemctl", "daemon-reload")
    restart_web(host)
