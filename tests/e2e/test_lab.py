"""The harness itself: three Debian hosts boot under systemd, on their own network, and go away.

Runs before the scenario (file order) so that a machine that cannot boot hosts is named here,
by the step that failed, rather than deep inside the scenario.
"""

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.e2e.conftest import INTRANET, PUBLIC, build_lab
from tests.e2e.hosts import _descendants

SAME_NAMED_STARTS = 30


def test_three_hosts_boot_on_their_own_network_and_leave_nothing_behind(tmp_path):
    lab = build_lab(tmp_path)
    try:
        hosts = [lab.intranet, *lab.public]
        for host in hosts:
            host.boot()
            assert host.sh("systemctl --failed --no-legend --plain").stdout.strip() == ""
            assert host.run("hostname").stdout.strip() == host.name
            # No way out: addresses on the lab's segments only, no default route.
            assert host.run("ip", "route", "show", "default").stdout.strip() == ""
        # Each host is its own machine: identity made at its own first boot, own SSH host key.
        assert len({h.run("cat", "/etc/machine-id").stdout for h in hosts}) == 3
        assert len({h.run("cat", "/etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1]
                     for h in hosts}) == 3
        # The segments carry traffic: the staff terminal and the intranet host reach a
        # public host's sshd (the OS's own, before anything is installed); the resident's
        # terminal does not see the intranet segment at all.
        inner, outer = PUBLIC["public-1"]
        probe = "import socket,sys; socket.create_connection((sys.argv[1], 22), timeout=3); print('ok')"
        assert lab.intranet.run("python3", "-c", probe, inner).stdout.strip() == "ok"
        assert lab.resident.run("python3", "-c", probe, outer).stdout.strip() == "ok"
        assert lab.resident.run("python3", "-c", probe, INTRANET, check=False).returncode != 0
        # A host written to inside stays as it was written: files live in its own overlay.
        lab.public[0].sh("echo only-here > /etc/shinsei-marker")
        assert not (lab.public[1].root / "etc/shinsei-marker").exists()
        each_host_has_its_own_cgroups(lab.public)
        folders = [folder for host in hosts for folder in host.cgroups.folders]
    finally:
        lab.close()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.tag not in names
    mounts = Path("/proc/mounts").read_text()
    assert str(tmp_path) not in mounts
    assert not [folder for folder in folders if folder.exists()], "cgroups left behind"


def each_host_has_its_own_cgroups(hosts):
    """Same-named units on two hosts at once (the receiver runs on every public host): each
    host's systemd sees only its own processes, so no start fails (`219/CGROUP`, "already
    loaded") and no stop ends the other host's unit."""
    for host in hosts:
        # The cgroups first, then the host's process tree: a process forked in between
        # (PostgreSQL's autovacuum worker) is then in both, not taken for another host's.
        in_cgroups = host.cgroups.processes()
        own = {host.nspawn.pid, *_descendants(host.nspawn.pid)}
        in_cgroups = {pid for pid in in_cgroups if Path(f"/proc/{pid}").exists()}
        assert in_cgroups and in_cgroups <= own, (
            f"{host.name}: processes of another host in its cgroups: {sorted(in_cgroups - own)}")
        init = Path(f"/proc/{host.init_pid}/cgroup").read_text()
        assert f"name=systemd:/{host.cgroups.name}/" in init, init

    def starts(host):
        failed = []
        for _ in range(SAME_NAMED_STARTS):
            result = host.run("systemd-run", "--quiet", "--unit=probe", "--wait", "--collect",
                              "/bin/true", check=False)
            if result.returncode != 0:
                failed.append(result.stderr.strip()[-200:])
        return failed

    with ThreadPoolExecutor(len(hosts)) as pool:
        failures = dict(zip([h.name for h in hosts], pool.map(starts, hosts), strict=True))
    assert failures == {h.name: [] for h in hosts}, failures
