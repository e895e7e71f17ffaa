"""Hosts booted with systemd, joined by their own network, for the end-to-end test.

Each host is the cached Debian root (os_image.py) under an overlay of its own, booted with
`systemd-nspawn --boot` inside a network namespace made here. Commands reach it through
`nsenter` into its systemd (PID 1 inside), exactly as an administrator's shell would.

The network lives in a "switch" namespace holding two bridges: `lgwan` (the intranet host,
the staff terminal, the public hosts' inner leg) and `inet` (the public hosts' outer leg, the
resident's terminal). Every namespace has addresses on these segments only and no default
route: nothing here can reach beyond the machine. Terminals (staff, resident) are namespaces
without a host: a browser or client runs in them through `ip netns exec`.

Each host's systemd-nspawn starts inside cgroups of its own (one per hierarchy that systemd
uses, see `HostCgroups`). This machine has no systemd as PID 1, so without that every booted
host would make its tree under the same `/payload` of the caller's cgroup: same-named units on
two hosts (the receiver on both public hosts) would share one cgroup, and one host's stop of its
unit could fail the other's start (`status=219/CGROUP`) or end the other's processes.

Everything made here is recorded and removed by `Lab.close()`, processes by their PID.
"""

import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from tests.e2e.os_image import image_root

# root's PATH on Debian: the installer links the commands into /usr/local/bin.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BRIDGES = ("lgwan", "inet")
# The hierarchies a booted host's systemd writes its tree into (v1 named + the v2 mount of a
# hybrid layout); controllers' hierarchies stay as the machine set them.
CGROUP_HIERARCHIES = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"))


class LabError(AssertionError):
    """The machine could not do a step of building the lab: the message says which."""


def run(step, command, timeout=120, check=True, input=None, text=True):
    try:
        result = subprocess.run(command, capture_output=True, text=text, timeout=timeout,
                                input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError as error:
        raise LabError(f"{step}: {error.filename} is not installed (`make system-deps`)") from None
    except subprocess.TimeoutExpired as error:
        raise LabError(f"{step}: no answer after {timeout} s: {' '.join(command)}") from error
    if check and result.returncode != 0:
        output = result.stdout + result.stderr
        if not text:
            output = output.decode(errors="replace")
        raise LabError(f"{step} failed (exit {result.returncode}): {' '.join(command)}\n{output[-3000:]}")
    return result


class Lab:
    """The switch, the namespaces and the hosts of one test run."""

    def __init__(self, workdir: Path):
        if os.geteuid() != 0:
            raise LabError("booting hosts needs root (network namespaces, overlays, systemd-nspawn)")
        self.workdir = workdir
        self.tag = uuid.uuid4().hex[:5]
        self.namespaces: list[str] = []
        self.hosts: list[Host] = []
        self.switch = self.namespace("sw")
        for bridge in BRIDGES:
            self.ns_run(self.switch, "create bridge", "ip", "link", "add", bridge, "type", "bridge")
            self.ns_run(self.switch, "bring the bridge up", "ip", "link", "set", bridge, "up")
        self.ns_run(self.switch, "bring lo up", "ip", "link", "set", "lo", "up")

    def namespace(self, role):
        name = f"shinsei-{self.tag}-{role}"
        run(f"create network namespace {name}", ["ip", "netns", "add", name])
        self.namespaces.append(name)
        run("bring lo up", ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
        return name

    def ns_run(self, namespace, step, *command, **kw):
        return run(f"{step} (in {namespace})", ["ip", "netns", "exec", namespace, *command], **kw)

    def plug(self, namespace, interface, bridge, address):
        """A veth pair: `interface` with `address` (CIDR) in `namespace`, its peer on `bridge`."""
        inner, outer = f"v{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:8]}"
        run("create veth pair", ["ip", "link", "add", inner, "type", "veth", "peer", "name", outer])
        run("move veth into the host's namespace", ["ip", "link", "set", inner, "netns", namespace])
        run("move veth into the switch", ["ip", "link", "set", outer, "netns", self.switch])
        self.ns_run(namespace, "name the interface", "ip", "link", "set", inner, "name", interface)
        self.ns_run(namespace, "address the interface", "ip", "addr", "add", address, "dev", interface)
        self.ns_run(namespace, "bring the interface up", "ip", "link", "set", interface, "up")
        self.ns_run(self.switch, "attach to the bridge", "ip", "link", "set", outer, "master", bridge)
        self.ns_run(self.switch, "bring the port up", "ip", "link", "set", outer, "up")

    def terminal(self, role, bridge, address):
        """A namespace with one interface and no host: where a browser or client runs."""
        namespace = self.namespace(role)
        self.plug(namespace, "eth0", bridge, address)
        return Terminal(self, namespace)

    def host(self, name, links):
        """A host named `name` with interfaces {"eth0": ("lgwan", "10.0.0.1/24"), ...}."""
        namespace = self.namespace(name)
        for interface, (bridge, address) in links.items():
            self.plug(namespace, interface, bridge, address)
        host = Host(self, name, namespace, image_root(), HostCgroups(f"shinsei-{self.tag}-{name}"))
        self.hosts.append(host)
        return host

    def retire(self, host):
        """Power a host off for good and unplug it: its addresses are free for a replacement."""
        host.remove()
        self.hosts.remove(host)
        run(f"delete namespace {host.namespace}", ["ip", "netns", "del", host.namespace])
        self.namespaces.remove(host.namespace)

    def close(self):
        problems = []
        for host in self.hosts:
            try:
                host.remove()
            except Exception as error:  # teardown goes on; the problem is reported at the end
                problems.append(f"{host.name}: {error}")
            if host.cgroups.exists:
                problems.append(f"{host.name}: cgroups left behind: {host.cgroups.folders}")
        for namespace in reversed(self.namespaces):
            pids = run("list processes", ["ip", "netns", "pids", namespace], check=False).stdout.split()
            for pid in pids:  # started by this lab inside its own namespace (browsers, clients)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            result = run("delete namespace", ["ip", "netns", "del", namespace], check=False)
            if result.returncode != 0:
                problems.append(f"namespace {namespace}: {result.stderr.strip()}")
        if problems:
            raise LabError("teardown left something behind:\n" + "\n".join(problems))


class HostCgroups:
    """The cgroups one host lives in: made before each boot, removed (deepest first, once
    empty) after the host is down, in every hierarchy, so that no `payload` is left behind
    in one of them alone (that makes the next systemd-nspawn fail to attach)."""

    def __init__(self, name, hierarchies=CGROUP_HIERARCHIES):
        self.name = name
        self.folders = [h / name for h in hierarchies if (h / "cgroup.procs").exists()]
        if not self.folders:
            raise LabError("no systemd cgroup hierarchy under /sys/fs/cgroup: hosts cannot be "
                           "given cgroups of their own on this machine")

    def claim(self):
        for folder in self.folders:
            folder.mkdir(exist_ok=True)

    def enter(self):
        """In the child, before exec: systemd-nspawn (and so the host) starts in these cgroups."""
        pid = str(os.getpid())
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(pid)

    def processes(self):
        """Every process still in the host's cgroups, at any depth."""
        found = set()
        for folder in self.folders:
            for directory, _, _ in os.walk(folder):  # a cgroup vanishing meanwhile is skipped
                with contextlib.suppress(OSError):
                    found.update(int(p) for p in Path(directory, "cgroup.procs").read_text().split())
        return found

    def release(self, timeout=30):
        """After the host is down: wait for its processes to end (a power cut ends what a
        halt did not), then remove the cgroups, deepest first."""
        deadline = time.monotonic() + timeout
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for folder in self.folders:
            if not folder.exists():
                continue
            for directory, _, _ in os.walk(folder, topdown=False):  # deepest first
                _remove_cgroup(Path(directory))

    @property
    def exists(self):
        return any(folder.exists() for folder in self.folders)


class Terminal:
    def __init__(self, lab, namespace):
        self.lab, self.namespace = lab, namespace

    def prefix(self):
        return ["ip", "netns", "exec", self.namespace]

    def run(self, *command, **kw):
        return run(f"on {self.namespace}", [*self.prefix(), *command], **kw)


class Host:
    """One booted Debian host: its own overlay over the cached root, its own namespace."""

    def __init__(self, lab, name, namespace, image, cgroups):
        self.lab, self.name, self.namespace, self.cgroups = lab, name, namespace, cgroups
        self.folder = lab.workdir / "hosts" / name
        self.root = self.folder / "root"
        for part in ("upper", "work", "root"):
            (self.folder / part).mkdir(parents=True)
        run(f"mount the overlay of {name}",
            ["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={image},upperdir={self.folder}/upper,workdir={self.folder}/work",
             str(self.root)])
        self.mounted = True
        # The host's own identity, as its own OS install would have made it.
        (self.root / "etc/hostname").write_text(name + "\n")
        (self.root / "etc/machine-id").write_text(uuid.uuid4().hex + "\n")
        run(f"make {name}'s SSH host keys", ["ssh-keygen", "-A", "-f", str(self.root)])
        self.nspawn: subprocess.Popen | None = None
        self.boots = 0

    # -- power -------------------------------------------------------------------------------
    def boot(self, timeout=90):
        self.boots += 1
        console = open(self.folder / f"console-{self.boots}.log", "wb")  # noqa: SIM115 (kept by Popen)
        self.cgroups.claim()
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-D", str(self.root), "--boot", "--register=no", "--keep-unit",
             f"--machine={self.name}", f"--network-namespace-path=/run/netns/{self.namespace}",
             # A host's root manages its own firewall (nftables) in its own namespace:
             # nspawn keeps CAP_NET_ADMIN only for --private-network unless told.
             "--capability=CAP_NET_ADMIN", "--console=passive"],
            stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=self.cgroups.enter)
        console.close()
        self.init_pid = self._find_init(timeout=30)
        state = self.wait_running(timeout)
        if state != "running":
            failed = self.sh("systemctl --failed --no-legend --plain", check=False).stdout
            raise LabError(f"{self.name} booted to '{state}', failed units:\n{failed}"
                           f"\n(console: {self.folder}/console-{self.boots}.log)")
        return self

    def _find_init(self, timeout):
        """The host's systemd: a descendant of the nspawn process named systemd."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.nspawn.poll() is not None:
                raise LabError(f"systemd-nspawn for {self.name} ended with {self.nspawn.returncode}:\n"
                               + self.console_tail())
            for pid in _descendants(self.nspawn.pid):
                if _comm(pid) == "systemd":
                    return pid
            time.sleep(0.1)
        raise LabError(f"{self.name}: no systemd process appeared under systemd-nspawn "
                       f"in {timeout} s:\n{self.console_tail()}")

    def wait_running(self, timeout):
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.sh("systemctl is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                return state
            time.sleep(0.5)
        raise LabError(f"{self.name} did not finish booting in {timeout} s (state '{state}')\n"
                       + self.console_tail())

    def console_tail(self):
        log = self.folder / f"console-{self.boots}.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else "(no console log)"

    def shutdown(self, timeout=60):
        """Power off as an administrator would; waits for the host to be down."""
        if self.nspawn is None or self.nspawn.poll() is not None:
            return
        self.nspawn.send_signal(signal.SIGTERM)  # nspawn asks the host's systemd to halt
        try:
            self.nspawn.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise LabError(f"{self.name} did not power off within {timeout} s") from None
        self.nspawn = None
        self.cgroups.release()

    def kill(self):
        """Pull the plug: the host stops at once, nothing shut down cleanly."""
        if self.nspawn is not None and self.nspawn.poll() is None:
            os.killpg(self.nspawn.pid, signal.SIGKILL)
            self.nspawn.wait(30)
        self.nspawn = None
        # The host's own processes outlive nspawn (its init leads another session): a power
        # cut ends them all, and so does releasing its cgroups.
        self.cgroups.release(timeout=0)

    def reboot(self, timeout=90):
        """`systemctl reboot` inside; nspawn ends (exit 133) and the host is started again."""
        self.sh("systemctl reboot", check=False)
        try:
            code = self.nspawn.wait(timeout)
        except subprocess.TimeoutExpired:
            raise LabError(f"{self.name} did not go down for the reboot within {timeout} s") from None
        if code != 133:
            raise LabError(f"{self.name}: systemd-nspawn ended with {code} on reboot, not 133")
        self.nspawn = None
        self.cgroups.release()
        return self.boot(timeout)

    @property
    def running(self):
        return self.nspawn is not None and self.nspawn.poll() is None

    def remove(self):
        self.shutdown()
        if self.mounted:
            run(f"unmount {self.name}'s overlay", ["umount", str(self.root)])
            self.mounted = False

    # -- commands ----------------------------------------------------------------------------
    def prefix(self):
        if not self.running:
            raise LabError(f"{self.name} is not running")
        return ["nsenter", "-t", str(self.init_pid), "-a", "env", "-i", f"PATH={PATH}",
                "LANG=C.UTF-8", "HOME=/root"]

    def run(self, *command, check=True, timeout=300, input=None, text=True):
        return run(f"on {self.name}", [*self.prefix(), *command], check=check, timeout=timeout,
                   input=input, text=text)

    def sh(self, script, **kw):
        return self.run("sh", "-c", script, **kw)

    def write(self, path, data: bytes, mode=0o644, owner="root"):
        """A file placed on the host as an administrator carries it in (owner, mode)."""
        self.run("install", "-D", "-m", f"{mode:o}", "-o", owner, "/dev/stdin", path,
                 input=data, text=False)
        return path

    def read(self, path) -> bytes:
        return self.run("cat", path, text=False).stdout


def _remove_cgroup(directory, timeout=10):
    """rmdir of an emptied cgroup can answer EBUSY for a moment while the kernel lets go."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if time.monotonic() > deadline:
                raise LabError(f"cannot remove cgroup {directory}: {error}") from None
            time.sleep(0.2)


def _descendants(pid):
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            queue.append(child)
    return found


def _comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
