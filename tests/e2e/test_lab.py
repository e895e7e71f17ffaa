"""The harness itself: three Debian hosts boot under systemd, on their own network, and go away.

Runs before the scenario (file order) so that a machine that cannot boot hosts is named here,
by the step that failed, rather than deep inside the scenario.
"""

import subprocess
from pathlib import Path

from tests.e2e.conftest import INTRANET, PUBLIC, build_lab


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
    finally:
        lab.close()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.tag not in names
    mounts = Path("/proc/mounts").read_text()
    assert str(tmp_path) not in mounts
