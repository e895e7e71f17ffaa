"""The city's IT team at work: the release bundle carried to each host and installed offline,
following docs/install.*.md and deploy/README.md literally.

Order, as the guide gives it: the intranet host first (it makes the keys and a folder of what
to carry to the public hosts), then each public host (it takes that folder and prints its SSH
host key line), then the intranet host again with those lines (its known_hosts). Everything
that crosses between hosts is carried as an administrator would carry it on a medium: files
copied by the test from one host's disk to another's, never over the lab's network.
"""

import hashlib
import shlex
import subprocess
import time
from pathlib import Path

from tests.e2e import documented
from tests.e2e.conftest import INTRANET, PUBLIC, STAFF
from tests.e2e.hosts import LabError
from tests.release import release_bundle

ROOT = Path(__file__).parents[2]
MUNICIPALITY_CODE = "142158"
INTRANET_NAME, PUBLIC_NAME = "shinsei.lgwan.city.test", "status.city.test"
TLS_CERT, TLS_KEY = "/etc/ssl/shinsei/server.pem", "/etc/ssl/private/shinsei.key"
CARRY_FROM_INTRANET = "/var/lib/shinsei/carry-to-public"
CARRY_FROM_PUBLIC = "/var/lib/shinsei/carry-to-intranet/known_hosts"
# Where the guide's medium (a USB stick) is mounted, and the values file's default place.
MEDIUM, VALUES = "/media/usb", "/etc/shinsei/site.env"
# The administrator's public key, as carried to a public host (docs/install.*.md 4.).
ADMIN_KEY = f"{MEDIUM}/kanri_ed25519.pub"


def bundle():
    """dist's release bundle (`make release`, which `make test` and `make e2e` run first),
    built again when a source it is made from is newer — by one builder at a time
    (tests.release): two modules of this test on two workers once built it together, and
    one of them found a wheel without its compiled catalogues."""
    return release_bundle()


def values_file(**values):
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


def intranet_values(public_host_keys=""):
    return values_file(
        MUNICIPALITY_CODE=MUNICIPALITY_CODE, MUNICIPALITY_NAME="テスト市", ENVIRONMENT="prod",
        SERVER_NAME=INTRANET_NAME, TLS_CERT=TLS_CERT, TLS_KEY=TLS_KEY, MANAGEMENT_ADDRESS=STAFF,
        PUBLIC_HOSTS=" ".join(inner for inner, _ in PUBLIC.values()),
        STAFF_NETWORKS=f"{STAFF}/32", PUBLIC_HOST_KEYS=public_host_keys,
        PUBLIC_URL=f"https://{PUBLIC_NAME}")


def public_values(name, balancer_addresses=""):
    """A public host's values file; with `balancer_addresses` as §9 has it extended."""
    inner, _ = PUBLIC[name]
    behind = {"BALANCER_ADDRESSES": balancer_addresses} if balancer_addresses else {}
    return values_file(
        MUNICIPALITY_CODE=MUNICIPALITY_CODE, MUNICIPALITY_NAME="テスト市", ENVIRONMENT="prod",
        SERVER_NAME=PUBLIC_NAME, TLS_CERT=TLS_CERT, TLS_KEY=TLS_KEY, MANAGEMENT_ADDRESS=STAFF,
        INTRANET_HOST=INTRANET, UPLOAD_ADDRESS=inner, KEYS_FROM="/root/carried", **behind,
        MUNICIPALITY_NAME_EN="Test City", MUNICIPALITY_NAME_EASY="{テスト市|てすとし}",
        CONTACT="テスト市 給付金コールセンター 0120-000-000",
        CONTACT_EN="Test City Benefit Call Centre, 0120-000-000 (in Japanese)",
        CONTACT_EASY="テスト市 {給付金|きゅうふきん}の 電話 0120-000-000",
        HOURS="平日 8時30分〜17時15分", HOURS_EN="Monday to Friday, 8:30 to 17:15",
        HOURS_EASY="月曜日から 金曜日の 8時30分から 17時15分まで",
        UPDATE_SCHEDULE="平日の午前10時ごろ", UPDATE_SCHEDULE_EN="every weekday at about 10:00",
        UPDATE_SCHEDULE_EASY="月曜日から 金曜日の あさ 10時ごろ")


def balancer_values(public_addresses):
    """§9: the balancer's values file — the residents' name, certificate and contact, and the
    public hosts as it reaches them (the lab's CA issued their certificates)."""
    return values_file(
        MUNICIPALITY_NAME="テスト市", SERVER_NAME=PUBLIC_NAME, TLS_CERT=TLS_CERT, TLS_KEY=TLS_KEY,
        PUBLIC_HOSTS=" ".join(public_addresses), PUBLIC_HOSTS_CA=TLS_CERT,
        MUNICIPALITY_NAME_EN="Test City", MUNICIPALITY_NAME_EASY="{テスト市|てすとし}",
        CONTACT="テスト市 給付金コールセンター 0120-000-000",
        CONTACT_EN="Test City Benefit Call Centre, 0120-000-000 (in Japanese)",
        CONTACT_EASY="テスト市 {給付金|きゅうふきん}の 電話 0120-000-000",
        HOURS="平日 8時30分〜17時15分", HOURS_EN="Monday to Friday, 8:30 to 17:15",
        HOURS_EASY="月曜日から 金曜日の 8時30分から 17時15分まで")


class Installation:
    """The bundle and the CA's certificates on a host, and the guide's blocks run on it
    (tests/e2e/documented.py): the commands as docs/install.*.md writes them, in the unpacked
    bundle where the guide runs them."""

    def __init__(self, bundle: Path, ca):
        self.bundle, self.ca = bundle, ca
        self.version = bundle.name.removeprefix("shinsei-status-").removesuffix("-offline.tar.gz")
        self.folder = f"shinsei-status-{self.version}"
        self.unpacked = f"/root/{self.folder}"

    def carry_in(self, host, server_name, addresses, values):
        """§1 and §2: certificates, the bundle checked and unpacked, the values file."""
        chain, key = self.ca.issue(server_name, addresses)
        host.write(TLS_CERT, chain, 0o644)
        host.write(TLS_KEY, key, 0o600)
        host.write(f"/root/{self.bundle.name}", self.bundle.read_bytes(), 0o644)
        host.run("mkdir", "-p", MEDIUM)
        # The administrator compares the printed digest with the one received separately.
        checked = documented.run(host, "install", "bundle-check", VERSION=self.version)
        assert hashlib.sha256(self.bundle.read_bytes()).hexdigest() in checked.stdout, checked.stdout
        documented.run(host, "install", "values-file", cwd=self.unpacked)
        self.write_values(host, values)

    def write_values(self, host, values):
        """The values file, as the administrator fills it in with an editor."""
        host.write(VALUES, values.encode(), 0o600)

    def intranet(self, host):
        # §0: what the city installs from Debian first (there already: nothing is fetched).
        documented.run(host, "install", "os-packages-intranet")
        self.carry_in(host, INTRANET_NAME, [INTRANET], intranet_values())
        previewed(documented.run(host, "install", "intranet-preview", cwd=self.unpacked, check=False))
        documented.run(host, "install", "intranet-install", cwd=self.unpacked,
                       explain=lambda: unit_journals(host))
        documented.run(host, "install", "carry-to-public")

    def admin_key(self) -> Path:
        """The administrator's SSH key on the management desk (its .pub goes on the medium)."""
        key = self.ca.folder / "admin_ed25519"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kanri@desk",
                            "-f", str(key)], check=True)
        return key

    def public(self, host, intranet, name):
        inner, outer = PUBLIC[name]
        documented.run(host, "install", "os-packages-public")
        carry_file(intranet, f"{MEDIUM}/carry-to-public.tar", host)
        self.carry_in(host, PUBLIC_NAME, [inner, outer], public_values(name))
        # §4 first: the administrator's key, carried in, before sshd takes keys only.
        host.write(ADMIN_KEY, self.admin_key().with_suffix(".pub").read_bytes(), 0o644)
        documented.run(host, "install", "admin-ssh-key", ADMIN_KEY=ADMIN_KEY)
        documented.run(host, "install", "public-take-keys")
        previewed(documented.run(host, "install", "public-preview", cwd=self.unpacked, check=False))
        installed = documented.run(host, "install", "public-install", cwd=self.unpacked,
                                   explain=lambda: unit_journals(host))
        documented.run(host, "install", "carry-to-intranet")
        carry_file(host, f"{MEDIUM}/known_hosts-{host.name}", intranet)
        return installed

    def balancer(self, host, address, public_addresses):
        """§9 on a balancer host: Debian's packages, the bundle, the residents' certificate
        for the balancer's address, the values file, then the preview and the install."""
        documented.run(host, "install", "os-packages-balancer")
        self.carry_in(host, PUBLIC_NAME, [address], balancer_values(public_addresses))
        previewed(documented.run(host, "install", "balancer-preview", cwd=self.unpacked,
                                 check=False))
        return documented.run(host, "install", "balancer-install", cwd=self.unpacked,
                              explain=lambda: unit_journals(host))

    def behind_balancer(self, host, name, balancer_address):
        """§9, the public hosts' side: BALANCER_ADDRESSES added to the values file, and §4's
        install run again."""
        self.write_values(host, public_values(name, balancer_address))
        return documented.run(host, "install", "public-install", cwd=self.unpacked,
                              explain=lambda: unit_journals(host))

    def introduce(self, intranet, publics, check=True):
        """§5: the public hosts' SSH host keys (carried back by `public`) become its known_hosts."""
        self.write_values(intranet, intranet_values("/root/public-host-keys"))
        return documented.run(intranet, "install", "introduce", cwd=self.unpacked, check=check,
                              explain=lambda: unit_journals(intranet))

    def check(self, host, role):
        """§6: nothing failed, nothing left to change."""
        return documented.run(host, "install", "check-host", cwd=self.unpacked, ROLE=role)


def previewed(result):
    """`install.sh --check` before an install: the differences listed, exit 1, no traceback."""
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stdout + result.stderr
    return result


def carry_file(source_host, path, target_host):
    """A file copied on the medium from one host to the same place on another."""
    target_host.write(path, source_host.read(path), 0o600)


def carry(source_host, source_dir, target_host, target_dir):
    """A folder copied between hosts on a medium (tar through the machine, never the network)."""
    packed = source_host.run("tar", "-C", source_dir, "-cf", "-", ".", text=False).stdout
    target_host.run("mkdir", "-p", "-m", "0700", target_dir)
    target_host.run("tar", "-C", target_dir, "-xf", "-", input=packed, text=False)


def intranet_cli(host, *args, input=None, check=True):
    """`shinsei-intranet` as the guide runs it on the intranet host."""
    return host.run("runuser", "-u", "shinsei-web", "--", "shinsei-intranet", *args, input=input,
                    check=check)


def unit_journals(host):
    """What systemd logged for every failed unit: the reason, for the failure message."""
    failed = failed_units(host).split()
    units = [name for name in failed if name.endswith((".service", ".path", ".timer", ".socket"))]
    return "\n".join(f"--- journal of {unit} on {host.name}:\n"
                     + host.run("journalctl", "-b", "--no-pager", "-n", "25", "-u", unit,
                                check=False).stdout for unit in units)


def journal_showing(host, text, *units, timeout=30):
    """This boot's journal of `units` once it shows `text`. A service's output reaches journald
    on a stream of its own, which journald may read after `systemctl start` has returned: read
    at once, a oneshot's last lines can be missing (a CI run failed so). `--sync` asks journald
    to write what it has taken in; the polling covers what it has not taken in yet."""
    selected = [arg for unit in units for arg in ("-u", unit)]
    journal = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        host.run("journalctl", "--sync", check=False)
        journal = host.run("journalctl", "-b", "--no-pager", "-o", "cat", *selected).stdout
        if text in journal:
            return journal
        time.sleep(0.5)
    raise LabError(f"{host.name}: {text!r} not in the journal of {', '.join(units)} within "
                   f"{timeout} s:\n{journal[-2000:]}")


# A unit that is not running (a oneshot between runs, or one whose run failed).
IDLE = ("inactive", "failed")


def unit_property(host, unit, name):
    """One property of a unit as systemd shows it (ActiveState, InvocationID, …)."""
    return host.run("systemctl", "show", "-p", name, "--value", unit).stdout.strip()


def unit_idle(host, unit):
    return unit_property(host, unit, "ActiveState") in IDLE


def failed_units(host):
    return host.run("systemctl", "--failed", "--no-legend", "--plain").stdout.strip()


def wait_for(what, condition, timeout=60, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise LabError(f"{what}: not within {timeout} s (last seen: {last!r})")
