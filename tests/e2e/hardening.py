"""Issue 23's hardening on the deployed shape, from where each party stands: a resident's
terminal scans a public host's HTTPS as a security review would, staff's terminal the
intranet's; both count the security headers on real answers; the administrator's desk (the
staff segment, MANAGEMENT_ADDRESS) logs in to a public host with a key and nothing else; the
guide's own checks (docs/install.*.md, tagged blocks) run on the hosts; and a public host
cloned with another's host key is refused by the intranet's installer until it has its own.
"""

import json
import re
from collections import Counter
from pathlib import Path

from tests.e2e import city as guide
from tests.e2e import documented
from tests.e2e.conftest import INTRANET, PUBLIC

ROOT = Path(__file__).parents[2]
PROBE = ROOT / "tests" / "tls_probe.py"
POLICY = (ROOT / "deploy" / "nginx" / "tls.conf").read_text()
STATED_TLS12 = re.search(r"^ssl_ciphers (\S+);", POLICY, re.M).group(1).split(":")
STATED_TLS13 = re.search(r"^ssl_conf_command Ciphersuites (\S+);", POLICY, re.M).group(1).split(":")
REFUSED = ("TLSv1", "TLSv1.1", "TLSv1.2 static RSA", "TLSv1.2 CBC")
ONCE = ("strict-transport-security", "x-content-type-options", "x-frame-options",
        "referrer-policy")


def scan(terminal, address, name):
    """tests/tls_probe.py run on ``terminal`` (the machine's own python3 and OpenSSL, inside
    the terminal's network namespace) against ``address``:443 asking for ``name``."""
    args = [str(PROBE), address, "443"] + ([name] if name else [])
    return json.loads(terminal.run("python3", *args, timeout=120).stdout)


def check_tls(terminal, address, name):
    """Each refused probe refused, TLS 1.2 and 1.3 as stated, every TLS 1.2 suite alone:
    exactly the stated ones the lab's (ECDSA) certificate can sign for."""
    found = scan(terminal, address, name)
    probes = found["probes"]
    for probe in REFUSED:
        assert probes[probe] is None, f"{address} ({name}) accepted {probe}: {probes[probe]}"
    assert probes["TLSv1.2 ECDHE AES-GCM"][0] == "TLSv1.2"
    assert probes["TLSv1.2 ECDHE AES-GCM"][1] in STATED_TLS12, probes
    assert probes["TLSv1.3"][0] == "TLSv1.3" and probes["TLSv1.3"][1] in STATED_TLS13, probes
    assert found["tls12_accepted"] == sorted(c for c in STATED_TLS12 if "-ECDSA-" in c), found
    return found


def header_counts(terminal, ca, name, address, url):
    """(status, {header name: how many times}) of one answer, as curl on ``terminal`` sees it."""
    port = "443" if url.startswith("https:") else "80"
    result = terminal.run("curl", "-sS", "--max-time", "15", "--cacert", str(ca), "--resolve",
                          f"{name}:{port}:{address}", "-o", "/dev/null", "-D", "-", url)
    lines = result.stdout.splitlines()
    status = int(lines[0].split()[1])
    return status, Counter(line.split(":", 1)[0].strip().lower() for line in lines[1:] if ":" in line)


def check_headers_once(terminal, ca, name, address, answers):
    """``answers``: {path or full URL: expected status}. Each security header exactly once
    (HSTS on HTTPS only), on the apps' pages and nginx's own files and refusals alike."""
    for path, expected in answers.items():
        url = path if "://" in path else f"https://{name}{path}"
        status, counts = header_counts(terminal, ca, name, address, url)
        assert status == expected, (url, status)
        for header in ONCE:
            if header == "strict-transport-security" and url.startswith("http:"):
                continue
            assert counts[header] == 1, f"{url}: {header} sent {counts[header]} times"


def check_public_host_sshd(host):
    """The guide's check on the host itself: what sshd runs with."""
    said = documented.run(host, "install", "check-sshd").stdout
    for line in ("passwordauthentication no", "kbdinteractiveauthentication no",
                 "permitrootlogin without-password", "authenticationmethods publickey",
                 "disableforwarding yes", "allowtcpforwarding no", "allowagentforwarding no",
                 "x11forwarding no", "chrootdirectory /srv/shinsei",
                 "forcecommand internal-sftp -u 0027"):
        assert line in said.splitlines(), f"{host.name}: {line!r} not in\n{said}"


def check_administrator_login(lab, address, key):
    """The administrator's key (registered with the guide's command when the host was
    installed) logs in from the management desk; a password is not asked for; nothing is
    forwarded."""
    def ssh(*args, options=()):
        return lab.staff.run("ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o",
                             "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                             "-o", "ConnectTimeout=10", "-o", "IdentitiesOnly=yes", *options,
                             f"root@{address}", *args, check=False, timeout=60)

    logged_in = ssh("sshd", "-T", options=("-i", str(key)))
    assert logged_in.returncode == 0, logged_in.stderr
    assert "passwordauthentication no" in logged_in.stdout.splitlines()
    password = ssh("true", options=("-o", "PubkeyAuthentication=no", "-o",
                                    "PreferredAuthentications=password,keyboard-interactive"))
    assert password.returncode == 255 and "Permission denied (publickey)" in password.stderr
    through = ssh(options=("-i", str(key), "-W", f"{INTRANET}:443"))
    assert through.returncode == 255 and "administratively prohibited" in through.stderr


def check_a_clone_is_refused_until_it_has_keys_of_its_own(city):
    """public-2 given public-1's host keys (a VM cloned from one template), its line carried
    to the intranet host as 4.–5. say: refused, naming both; the guide's command makes it new
    keys; carried again, both are pinned, each under its own fingerprint."""
    lab, install = city.lab, city.installation
    intranet = lab.intranet
    original, clone = lab.public
    for kind in ("ed25519", "ecdsa", "rsa"):
        for suffix, mode in (("", 0o600), (".pub", 0o644)):
            path = f"/etc/ssh/ssh_host_{kind}_key{suffix}"
            clone.write(path, original.read(path), mode)
    clone.run("systemctl", "restart", "ssh")
    reinstall_and_carry(city, clone)
    refused = install.introduce(intranet, lab.public, check=False)
    first, second = (inner for inner, _ in PUBLIC.values())
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"{first} と {second}" in refused.stderr and "同じ SSH ホスト鍵" in refused.stderr
    documented.run(clone, "install", "new-host-keys")
    reinstall_and_carry(city, clone)
    pinned = install.introduce(intranet, lab.public)
    fingerprints = re.findall(r"^\s+(\S+): ssh-ed25519 (SHA256:\S+)", pinned.stdout, re.M)
    assert len({f for _, f in fingerprints}) == 2, pinned.stdout


def reinstall_and_carry(city, host):
    """4. again on ``host`` (its carried host key line written anew), and every public host's
    line on the medium to the intranet host."""
    install = city.installation
    documented.run(host, "install", "public-install", cwd=install.unpacked)
    for public in city.lab.public:
        documented.run(public, "install", "carry-to-intranet")
        guide.carry_file(public, f"{guide.MEDIUM}/known_hosts-{public.name}", city.lab.intranet)
