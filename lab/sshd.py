"""A real OpenSSH sshd for the tests, on a free loopback port, with its own config and keys.

It runs the public host's configuration as install.sh leaves it: Debian's stock
/etc/ssh/sshd_config (the openssh-server package's pristine copy) reading the shipped
drop-in deploy/sshd/00-shinsei.conf — keys only, no forwarding, current algorithms, and the
upload account's ``Match User`` block (``ChrootDirectory``, ``ForceCommand internal-sftp``).
Only what a test needs differs, set before the Include (sshd keeps the first value): its own
port, host key, pid file and key folder, no PAM and no StrictModes (temporary folders).
It never touches the machine's own sshd. Needs root: sshd must own the chroot and switch to
the upload account.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import paramiko

from lab.databases import free_port, wait_until_listening

SSHD = "/usr/sbin/sshd"
UPLOAD_USER = "shinsei-upload"
# A chroot's every parent must be root-owned and not group/world-writable: /tmp is not.
CHROOT_PARENT = Path("/var/lib/shinsei-test-sshd")
DROP_IN = Path(__file__).parents[1] / "deploy" / "sshd" / "00-shinsei.conf"
# Debian's /etc/ssh/sshd_config as the package ships it (what a fresh public host has).
STOCK = Path("/usr/share/openssh/sshd_config")
STOCK_INCLUDE = "Include /etc/ssh/sshd_config.d/*.conf"

TEST_ONLY = """\
Port {port}
ListenAddress {address}
HostKey {root}/host_ed25519_key
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys/%u
StrictModes no
UsePAM no
AllowUsers {user} root
LogLevel VERBOSE
"""


def sshd_config(root: Path, port: int, address: str, chroot: Path) -> Path:
    """The public host's sshd configuration under ``root``: the stock main file with the test's
    own lines first, and the shipped drop-in (its paths moved under ``root``) in its folder."""
    if not STOCK.exists():
        raise RuntimeError(f"{STOCK} is missing: run `make test` (it installs openssh-server)")
    folder = root / "sshd_config.d"
    folder.mkdir(exist_ok=True)
    (folder / DROP_IN.name).write_text(
        DROP_IN.read_text().replace("/etc/ssh/authorized_keys/", f"{root}/authorized_keys/")
        .replace("ChrootDirectory /srv/shinsei", f"ChrootDirectory {chroot}"))
    stock = STOCK.read_text()
    assert STOCK_INCLUDE in stock, f"{STOCK} no longer reads sshd_config.d as expected"
    config = root / "sshd_config"
    config.write_text(TEST_ONLY.format(port=port, address=address, root=root, user=UPLOAD_USER)
                      + stock.replace(STOCK_INCLUDE, f"Include {folder}/*.conf"))
    return config


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
        config = self.config = sshd_config(self.root, self.port, self.address, self.chroot)
        subprocess.run([SSHD, "-t", "-f", str(config)], check=True)
        self.log = (self.root / "sshd.log").open("w")
        self._command = [*self.prefix, SSHD, "-D", "-e", "-f", str(config)]
        self.process = subprocess.Popen(self._command, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait()
        except BaseException:
            self.stop()  # a server that did not come up is not left running
            raise
        return self

    def pause(self):
        """The host goes down: the server stops, its keys, inbox and port stay."""
        self.process.terminate()
        self.process.wait(timeout=10)

    def resume(self):
        """The host is back, with the same host key and inbox."""
        self.process = subprocess.Popen(self._command, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

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
