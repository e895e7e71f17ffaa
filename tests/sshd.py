"""A real OpenSSH sshd for the tests, on a free loopback port, with its own config and keys.

It is configured as deploy/ documents the public host's upload account: a ``Match User``
block with ``ChrootDirectory``, ``ForceCommand internal-sftp``, no forwarding, no TTY, keys
only. It never touches the machine's own sshd (own port, config, host key and pid file).
Needs root: sshd must own the chroot and switch to the upload account.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import paramiko

from tests.databases import free_port, wait_until_listening

SSHD = "/usr/sbin/sshd"
UPLOAD_USER = "shinsei-upload"
# A chroot's every parent must be root-owned and not group/world-writable: /tmp is not.
CHROOT_PARENT = Path("/var/lib/shinsei-test-sshd")

CONFIG = """\
Port {port}
ListenAddress {address}
HostKey {root}/host_ed25519_key
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys/%u
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
PermitRootLogin no
AllowUsers {user}
Subsystem sftp internal-sftp
LogLevel VERBOSE

Match User {user}
    ChrootDirectory {chroot}
    ForceCommand internal-sftp
    AllowTcpForwarding no
    AllowStreamLocalForwarding no
    AllowAgentForwarding no
    X11Forwarding no
    PermitTunnel no
    PermitTTY no
"""


def ensure_upload_user():
    try:
        pwd.getpwnam(UPLOAD_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", UPLOAD_USER], check=True)
    # A locked password ("!") makes sshd refuse even key logins without PAM; "*" is
    # "no password" but not locked.
    subprocess.run(["usermod", "-p", "*", UPLOAD_USER], check=True)
    return pwd.getpwnam(UPLOAD_USER)


class Sshd:
    def __init__(self, address="127.0.0.1", port=None, prefix=()):
        self.address, self.prefix = address, list(prefix)
        CHROOT_PARENT.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="sshd-", dir=CHROOT_PARENT))
        self.root.chmod(0o755)
        self.chroot = self.root / "chroot"
        self.inbox = self.chroot / "inbox"
        self.port = port or free_port()
        self.process = None

    def start(self):
        account = ensure_upload_user()
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
        self.chroot.mkdir(mode=0o755)
        self.inbox.mkdir(mode=0o755)
        os.chown(self.inbox, account.pw_uid, account.pw_gid)
        (self.root / "authorized_keys").mkdir()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(self.root / "host_ed25519_key")], check=True)
        self.client_key = self.root / "client_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(self.client_key)], check=True)
        shutil.copy(self.root / "client_key.pub", self.root / "authorized_keys" / UPLOAD_USER)
        config = self.root / "sshd_config"
        config.write_text(CONFIG.format(port=self.port, root=self.root, user=UPLOAD_USER,
                                        chroot=self.chroot, address=self.address))
        subprocess.run([SSHD, "-t", "-f", str(config)], check=True)
        self.log = (self.root / "sshd.log").open("w")
        self.process = subprocess.Popen([*self.prefix, SSHD, "-D", "-e", "-f", str(config)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait()
        except BaseException:
            self.stop()  # a server that did not come up is not left running
            raise
        return self

    def _wait(self):
        if not self.prefix:
            wait_until_listening(self.process, self.port, "sshd", self.root / "sshd.log")
            return
        deadline = time.monotonic() + 60  # in another namespace: wait for its log line instead
        while time.monotonic() < deadline and self.process.poll() is None:
            if "Server listening" in (self.root / "sshd.log").read_text():
                return
            time.sleep(0.05)
        raise RuntimeError(f"sshd did not start: {(self.root / 'sshd.log').read_text()}")

    @property
    def host_key(self):
        return paramiko.Ed25519Key.from_private_key_file(str(self.root / "host_ed25519_key"))

    def known_hosts(self, path: Path, key=None) -> Path:
        """A pinned known_hosts file for this server (or claiming ``key`` for it)."""
        key = key or self.host_key
        host = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        path.write_text(f"{host} {key.get_name()} {key.get_base64()}\n")
        return path

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)
