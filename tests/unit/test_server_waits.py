"""The suite's own wait for a test server: a server that fails is named with its log at once,
and one that never listens is stopped, never left running after the test."""

import subprocess
from pathlib import Path

import pytest

from lab.databases import free_port, wait_until_listening


def test_a_server_that_exits_is_named_with_its_log(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("bind() to 127.0.0.1 failed (98: Address already in use)\n")
    process = subprocess.Popen(["false"])
    with pytest.raises(RuntimeError, match=r"(?s)ended with 1 .*Address already in use"):
        wait_until_listening(process, free_port(), "nginx", log, timeout=30)


def test_a_server_that_never_listens_is_stopped(tmp_path):
    process = subprocess.Popen(["sleep", "600"])
    with pytest.raises(RuntimeError, match="did not listen"):
        wait_until_listening(process, free_port(), "sshd", timeout=0.5)
    assert process.poll() is not None


def test_ports_are_below_the_ephemeral_range_and_not_repeated():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert max(ports) < low
