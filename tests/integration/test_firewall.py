"""The shipped nftables rules, loaded in a network namespace: they replace only their own
table (the city's other tables stay), SSH stays open from the management address and only
from there, and IPv6 neighbour discovery still works (a TCP connection over IPv6 needs it)."""

import os
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest

from lab.deploy_sites import DEPLOY, render

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                reason="network namespaces need root and iproute2")
HOST, MANAGEMENT, OTHER, PUBLIC = "10.231.9.1", "10.231.9.10", "10.231.9.20", "10.231.9.50"
HOST6, CLIENT6 = "fd00:231:9::1", "fd00:231:9::10"
# The publication's pusher, played by nobody (the installer names the real account).
PUSHER_ACCOUNT, PUSHER_UID = "nobody", 65534
LISTEN = ("import socket, sys\n"
          "servers = []\n"
          "for family, address in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):\n"
          "    for port in (22, 443):\n"
          "        s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "        if family == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n"
          "        s.bind((address, port)); s.listen(); servers.append(s)\n"
          "print('ready', flush=True)\n"
          "sys.stdin.read()\n")
CONNECT = ("import socket, sys\n"
           "family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
           "s = socket.socket(family); s.settimeout(2); s.bind((sys.argv[3], 0))\n"
           "try:\n    s.connect((sys.argv[1], int(sys.argv[2]))); print('open')\n"
           "except OSError: print('closed')\n")


def sh(*command, check=True):
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"{command}: {result.stdout}{result.stderr}")
    return result


@contextmanager
def listening(namespace):
    """Ports 22 and 443 open in the namespace (IPv4 and IPv6) until the block ends."""
    listener = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", LISTEN],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "ready"
        yield
    finally:
        listener.stdin.close()
        listener.wait(10)
        listener.stdout.close()


@pytest.fixture
def intranet_host(tmp_path):
    """Two namespaces joined by a veth pair: the host (the rules loaded over a city table of
    its own) and a client with the management address and another one."""
    tag = uuid.uuid4().hex[:6]
    host, client = f"fw-h-{tag}", f"fw-c-{tag}"
    sh("ip", "netns", "add", host)
    sh("ip", "netns", "add", client)
    try:
        sh("ip", "link", "add", f"fh{tag}", "type", "veth", "peer", "name", f"fc{tag}")
        sh("ip", "link", "set", f"fh{tag}", "netns", host)
        sh("ip", "link", "set", f"fc{tag}", "netns", client)
        for ns, dev, addresses in ((host, f"fh{tag}", [f"{HOST}/24", f"{HOST6}/64"]),
                                   (client, f"fc{tag}", [f"{MANAGEMENT}/24", f"{OTHER}/24",
                                                         f"{CLIENT6}/64"])):
            for address in addresses:
                sh("ip", "netns", "exec", ns, "ip", "addr", "add", address, "dev", dev,
                   *(["nodad"] if ":" in address else []))
            sh("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        # The city's own firewall table, which ours must leave alone.
        sh("ip", "netns", "exec", host, "nft", "add table inet cityfw; add chain inet cityfw "
           "audit { type filter hook input priority 10; policy accept; }")
        values = dict(render.derived({
            "MANAGEMENT_ADDRESS": MANAGEMENT, "PUBLIC_HOSTS": PUBLIC, "STAFF_NETWORKS": "",
            "PUSHER_ACCOUNT": PUSHER_ACCOUNT}))
        rules = tmp_path / "rules.nft"
        rules.write_text(render.render(DEPLOY / "nftables" / "intranet-host.nft", values))
        for _ in range(2):      # loaded again (a restart of the unit): still one table of ours
            sh("ip", "netns", "exec", host, "nft", "-f", str(rules))
        with listening(host):
            yield host, client
    finally:
        sh("ip", "netns", "del", host, check=False)
        sh("ip", "netns", "del", client, check=False)


def reach(client, address, port, source):
    return sh("ip", "netns", "exec", client, sys.executable, "-c", CONNECT, address, str(port),
              source).stdout.strip()


def test_only_its_own_table_is_replaced(intranet_host):
    host, _ = intranet_host
    tables = sh("ip", "netns", "exec", host, "nft", "list", "tables").stdout.split("\n")
    assert sorted(t.strip() for t in tables if t.strip()) == ["table inet cityfw",
                                                                "table inet shinsei"]


def test_ssh_stays_open_from_the_management_address_only(intranet_host):
    _, client = intranet_host
    assert reach(client, HOST, 22, MANAGEMENT) == "open"
    assert reach(client, HOST, 22, OTHER) == "closed"
    assert reach(client, HOST, 443, OTHER) == "open"      # staff: every address by default


def test_ipv6_neighbour_discovery_still_works(intranet_host):
    _, client = intranet_host
    # Neither side knows the other's link-layer address: the connection needs ND first.
    assert reach(client, HOST6, 443, CLIENT6) == "open"


def test_the_pusher_opens_nothing_but_ssh_to_the_public_hosts(intranet_host):
    """Its unit's IPAddressAllow= needs cgroup v2; the host's own rule holds without it:
    the pusher's account cannot reach even this host's own HTTPS, root still can."""
    host, _ = intranet_host
    as_pusher = ["setpriv", f"--reuid={PUSHER_UID}", f"--regid={PUSHER_UID}", "--clear-groups"]
    for address in (HOST, "127.0.0.1"):
        probe = [sys.executable, "-c", CONNECT, address, "443", "0.0.0.0"]
        assert sh("ip", "netns", "exec", host, *probe).stdout.strip() == "open"
        assert sh("ip", "netns", "exec", host, *as_pusher, *probe).stdout.strip() == "closed"


def test_the_rule_follows_the_pusher_account_onto_another_host(tmp_path):
    """The rules name the account, not its number: the same file restored onto a host where
    the pusher's account got another uid still holds that host's pusher, and no longer the
    account that happens to have the old number."""
    account = f"fwp{uuid.uuid4().hex[:6]}"
    values = dict(render.derived({"MANAGEMENT_ADDRESS": MANAGEMENT, "PUBLIC_HOSTS": PUBLIC,
                                  "STAFF_NETWORKS": "", "PUSHER_ACCOUNT": account}))
    rules = tmp_path / "rules.nft"
    rules.write_text(render.render(DEPLOY / "nftables" / "intranet-host.nft", values))
    assert f'meta skuid "{account}" drop' in rules.read_text()
    namespace = f"fw-r-{uuid.uuid4().hex[:6]}"
    sh("ip", "netns", "add", namespace)
    try:
        sh("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        probe = [sys.executable, "-c", CONNECT, "127.0.0.1", "443", "0.0.0.0"]
        with listening(namespace):
            for uid, other in ((64101, 64102), (64102, 64101)):     # first host, then the restored
                sh("useradd", "--system", "--no-create-home", "--uid", str(uid), account)
                try:
                    sh("ip", "netns", "exec", namespace, "nft", "-f", str(rules))
                finally:
                    sh("userdel", account)
                as_uid = lambda n: ["setpriv", f"--reuid={n}", f"--regid={n}", "--clear-groups"]  # noqa: E731
                assert sh("ip", "netns", "exec", namespace, *as_uid(uid), *probe).stdout.strip() \
                    == "closed"
                assert sh("ip", "netns", "exec", namespace, *as_uid(other), *probe).stdout.strip() \
                    == "open"
    finally:
        sh("ip", "netns", "del", namespace, check=False)


def test_with_a_standby_the_builder_reaches_its_postgresql_and_nothing_else(tmp_path):
    """The builder's units gain the other intranet host's address (IPAddressAllow=, cgroup v2
    only); the host's rule holds on any layout: the builder's account opens PostgreSQL on the
    standby, not even another port there, while root still reaches both."""
    peer = "127.0.0.1"          # the standby, played by this namespace's loopback
    values = dict(render.derived({"MANAGEMENT_ADDRESS": MANAGEMENT, "PUBLIC_HOSTS": PUBLIC,
                                  "STAFF_NETWORKS": "", "STANDBY_HOST": peer,
                                  "BUILDER_ACCOUNT": PUSHER_ACCOUNT}))
    rules = tmp_path / "rules.nft"
    rules.write_text(render.render(DEPLOY / "nftables" / "intranet-host.nft", values))
    namespace = f"fw-s-{uuid.uuid4().hex[:6]}"
    sh("ip", "netns", "add", namespace)
    serve = ("import socket, sys\nservers = []\nfor port in (443, 5432):\n"
             "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "    s.bind(('127.0.0.1', port)); s.listen(); servers.append(s)\n"
             "print('ready', flush=True)\nsys.stdin.read()\n")
    try:
        sh("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", namespace, "nft", "-f", str(rules))
        listener = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c",
                                     serve], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True)
        try:
            assert listener.stdout.readline().strip() == "ready"
            as_builder = ["setpriv", f"--reuid={PUSHER_UID}", f"--regid={PUSHER_UID}",
                          "--clear-groups"]
            for port, builder in (("5432", "open"), ("443", "closed")):
                probe = [sys.executable, "-c", CONNECT, peer, port, "0.0.0.0"]
                assert sh("ip", "netns", "exec", namespace, *probe).stdout.strip() == "open"
                assert sh("ip", "netns", "exec", namespace, *as_builder,
                          *probe).stdout.strip() == builder, port
        finally:
            listener.stdin.close()
            listener.wait(10)
            listener.stdout.close()
    finally:
        sh("ip", "netns", "del", namespace, check=False)
