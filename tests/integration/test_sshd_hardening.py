"""The public host's sshd as install.sh leaves it (Debian's stock sshd_config reading the
shipped deploy/sshd/00-shinsei.conf), asked with the real `sshd -T` and used by real clients:
keys only for everyone, root by key only, nothing forwarded, current algorithms only, the
upload account in its chroot with internal-sftp — and an administrator's key still logs in.
The installer's own check (tools/shinsei_installer/sshd.py) finds a setting another file
decides."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import paramiko
import pytest

from lab.databases import free_port
from lab.sshd import DROP_IN, SSHD, UPLOAD_USER, Sshd, sshd_config

sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))
from shinsei_installer import sshd as installer_sshd

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not Path(SSHD).exists(),
                                reason="needs root and openssh-server (make test installs it)")


def effective(config: Path, *connection: str) -> dict[str, str]:
    command = [SSHD, "-T", "-f", str(config)]
    if connection:
        command += ["-C", ",".join(connection)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return installer_sshd.parse_effective(result.stdout)


def installed(root: Path) -> str:
    """The drop-in as sshd_config placed it under ``root`` (its key and chroot paths moved)."""
    return (root / "sshd_config.d" / DROP_IN.name).read_text()


@pytest.fixture
def config_root(tmp_path):
    """A configuration tree like a public host's, for `sshd -T` (nothing is started)."""
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "host_ed25519_key")], check=True)
    return tmp_path


def test_sshd_runs_with_every_setting_the_drop_in_states(config_root):
    config = sshd_config(config_root, free_port(), "127.0.0.1", Path("/srv/shinsei"))
    everyone = effective(config)
    upload = effective(config, f"user={UPLOAD_USER}", "host=intranet", "addr=192.0.2.1")
    admin = effective(config, "user=root", "host=desk", "addr=192.0.2.10")
    assert installer_sshd.differences(installed(config_root), everyone, upload) == []
    for settings in (everyone, admin, upload):
        assert settings["passwordauthentication"] == "no"
        assert settings["kbdinteractiveauthentication"] == "no"
        assert settings["authenticationmethods"] == "publickey"
        assert settings["permitrootlogin"] == "without-password"
        for forwarding in ("allowtcpforwarding", "allowagentforwarding", "x11forwarding",
                           "allowstreamlocalforwarding", "permittunnel"):
            assert settings[forwarding] == "no", forwarding
        assert settings["disableforwarding"] == "yes"
        assert "cbc" not in settings["ciphers"] and "sha1" not in settings["kexalgorithms"]
        assert all("etm" in mac for mac in settings["macs"].split(","))
    # Debian's own "X11Forwarding yes" comes after the drop-in: the first value wins.
    assert everyone["x11forwarding"] == "no"
    # Administrators keep their usual key file and shell; the upload account gets its chroot.
    assert admin["authorizedkeysfile"].endswith("/authorized_keys/%u")
    assert admin["chrootdirectory"] == "none" and admin["forcecommand"] == "none"
    assert upload["chrootdirectory"] == "/srv/shinsei"
    assert upload["forcecommand"] == "internal-sftp -u 0027"
    assert upload["permittty"] == "no" and upload["permituserrc"] == "no"


def test_a_setting_decided_by_another_file_is_named(config_root):
    """A line read before ours wins in sshd: the installer's check names each such setting."""
    config = sshd_config(config_root, free_port(), "127.0.0.1", Path("/srv/shinsei"))
    # What a cloud image or a former administrator leaves: a line above the Include, and a
    # drop-in that sorts before ours.
    text = config.read_text().replace("Include ", "PasswordAuthentication yes\nInclude ", 1)
    config.write_text(text)
    (config_root / "sshd_config.d" / "00-city.conf").write_text("X11Forwarding yes\n")
    found = installer_sshd.differences(
        installed(config_root), effective(config),
        effective(config, f"user={UPLOAD_USER}", "host=intranet", "addr=192.0.2.1"))
    assert found == [
        f"sshd: PasswordAuthentication が yes です（全員; {installer_sshd.DROP_IN} では no）",
        f"sshd: X11Forwarding が yes です（全員; {installer_sshd.DROP_IN} では no）"]


@pytest.fixture
def server():
    running = Sshd().start()
    # An administrator's key for root (the stock AuthorizedKeysFile, moved under the test's root).
    admin_key = running.root / "admin_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(admin_key)],
                   check=True)
    shutil.copy(running.root / "admin_key.pub", running.root / "authorized_keys" / "root")
    running.admin_key = admin_key
    yield running
    running.stop()


def ssh(server, user, *args, key=None, options=(), env=None):
    """The OpenSSH client, as an administrator would run it (no user config, no known hosts)."""
    command = ["ssh", "-F", "/dev/null", "-p", str(server.port), "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "ConnectTimeout=10", "-o", "IdentitiesOnly=yes", *options]
    command += ["-i", str(key)] if key else ["-o", "PubkeyAuthentication=no"]
    return subprocess.run([*command, f"{user}@127.0.0.1", *args], capture_output=True,
                          text=True, timeout=30, env=env)


def test_an_administrators_key_still_logs_in(server):
    result = ssh(server, "root", "echo", "logged-in", key=server.admin_key)
    assert result.returncode == 0 and result.stdout.strip() == "logged-in", result.stderr


@pytest.mark.parametrize("user", ["root", UPLOAD_USER])
def test_no_password_is_asked_for_anyone(server, user):
    result = ssh(server, user, "true", options=(
        "-o", "PreferredAuthentications=password,keyboard-interactive"))
    assert result.returncode == 255 and "Permission denied (publickey)" in result.stderr
    # What the server offers, asked directly: public key and nothing else.
    transport = paramiko.Transport(("127.0.0.1", server.port))
    try:
        transport.start_client(timeout=10)
        with pytest.raises(paramiko.BadAuthenticationType) as offered:
            transport.auth_password(user, "a password")
        assert offered.value.allowed_types == ["publickey"]
    finally:
        transport.close()


def test_an_administrator_can_forward_nothing(server):
    # TCP through the host (ssh -W), and a port opened on the host back to the client (-R).
    through = ssh(server, "root", key=server.admin_key,
                  options=("-W", f"127.0.0.1:{server.port}"))
    assert through.returncode == 255 and "administratively prohibited" in through.stderr
    back = ssh(server, "root", "true", key=server.admin_key,
               options=("-o", "ExitOnForwardFailure=yes", "-R", f"127.0.0.1:{free_port()}:127.0.0.1:22"))
    assert back.returncode == 255 and "forwarding failed" in back.stderr
    # The agent: offered by the client, never handed to the session.
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True)
    variables = dict(line.split(";")[0].split("=", 1) for line in agent.stdout.splitlines()
                     if line.startswith(("SSH_AUTH_SOCK=", "SSH_AGENT_PID=")))
    try:
        session = ssh(server, "root", 'echo "agent:${SSH_AUTH_SOCK:-none}"', key=server.admin_key,
                      options=("-A",), env={**os.environ, **variables})
        assert session.returncode == 0 and session.stdout.strip() == "agent:none", session.stderr
    finally:
        os.kill(int(variables["SSH_AGENT_PID"]), 15)


@pytest.mark.parametrize("option", [("-o", "KexAlgorithms=diffie-hellman-group14-sha1"),
                                    ("-c", "aes128-cbc"),
                                    # a MAC is only used with a cipher that is not AEAD
                                    ("-c", "aes128-ctr", "-m", "hmac-sha1")])
def test_old_algorithms_are_not_negotiated(server, option):
    result = ssh(server, "root", "true", key=server.admin_key, options=option)
    assert result.returncode == 255 and "no matching" in result.stderr, result.stderr
