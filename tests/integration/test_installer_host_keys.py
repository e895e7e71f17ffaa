"""The pinned public-host keys on the intranet host (install.sh's known_hosts step, on a tree):
taken from the carried file when it is there; when the values file names a file that is gone
(a fresh host restored from a backup set), whatever known_hosts holds is kept and the
installer says so, never emptied, never a stop."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))
from shinsei_installer import intranet  # tools/ is not a package: found through sys.path
from shinsei_installer.__main__ import install
from shinsei_installer.host import Host, InstallError

KNOWN_HOSTS = "etc/shinsei/pusher/known_hosts"
LINES = "198.51.100.2 ssh-ed25519 AAAAC3Nza1\n198.51.100.3 ssh-ed25519 AAAAC3Nza2\n"


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "root"
    (root / "etc/shinsei/pusher").mkdir(parents=True)
    (root / "root").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n"
                                     "shinsei-pusher:x:990:990::/nonexistent:/usr/sbin/nologin\n")
    (root / "etc/group").write_text("root:x:0:\nshinsei-pusher:x:990:\n")
    return Host(root)


def run(host, source, capsys):
    intranet._check_host_keys(host, source)
    install(intranet._known_hosts_steps(host, source), host, ())
    return capsys.readouterr().out


def test_the_carried_lines_become_known_hosts(host, capsys):
    host.path("/root/public-host-keys").write_text(LINES)
    run(host, "/root/public-host-keys", capsys)
    assert host.path(KNOWN_HOSTS).read_text() == LINES


def test_a_gone_file_keeps_the_pinned_keys_and_says_so(host, capsys):
    host.path(KNOWN_HOSTS).write_text(LINES)
    said = run(host, "/root/public-host-keys", capsys)
    assert host.path(KNOWN_HOSTS).read_text() == LINES
    assert ("注: PUBLIC_HOST_KEYS = /root/public-host-keys がありません: "
            "/etc/shinsei/pusher/known_hosts の公開ホストの鍵（2 行）をそのまま使います") in said


def test_a_gone_file_on_a_fresh_host_says_what_brings_the_keys(host, capsys):
    said = run(host, "/root/public-host-keys", capsys)
    assert host.path(KNOWN_HOSTS).read_text() == ""
    assert "公開ホストの鍵はまだ登録されていません" in said and "backup restore" in said


def test_lines_that_are_not_known_hosts_lines_stop_the_installer(host):
    host.path("/root/public-host-keys").write_text("198.51.100.2 ssh-ed25519 AAAA\nnot a key\n")
    with pytest.raises(InstallError, match="/root/public-host-keys:2"):
        intranet._check_host_keys(host, "/root/public-host-keys")
