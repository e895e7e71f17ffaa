"""The shipped nginx sites negotiate what deploy/nginx/tls.conf states and nothing else, under
Debian's stock nginx.conf (which still lists TLS 1.0 and 1.1 at http level): TLS 1.2 with ECDHE
and an AEAD cipher, or TLS 1.3 — never TLS 1.0 or 1.1, static RSA key exchange or CBC; with an
RSA or an ECDSA certificate; with and without a server name; no session tickets. Asked by a
real client of each handshake (tests/tls_probe.py) and by testssl.sh, the scanner a city's
security review runs."""

import json
import re
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from lab.databases import free_port
from lab.deploy_sites import DEBIAN_HTTP_TLS, DEPLOY, SAMPLE, TLS_INCLUDE, nginx_config, render, serving
from tests import tls_probe

SERVER_NAME = SAMPLE["SERVER_NAME"]
POLICY = (DEPLOY / "nginx" / "tls.conf").read_text()
STATED_TLS12 = re.search(r"^ssl_ciphers (\S+);", POLICY, re.M).group(1).split(":")
STATED_TLS13 = re.search(r"^ssl_conf_command Ciphersuites (\S+);", POLICY, re.M).group(1).split(":")
REFUSED = ("TLSv1", "TLSv1.1", "TLSv1.2 static RSA", "TLSv1.2 CBC")


def site_survey(directory: Path, site: str, key: str, server_name: str | None = SERVER_NAME,
                edit=None) -> dict:
    """The shipped ``site`` (``edit``: a change to its text first) served by a real nginx,
    surveyed by tls_probe."""
    port = free_port()
    config = nginx_config(directory, site, port=port, backend=free_port(), key=key)
    if edit is not None:
        site_conf = directory / "site.conf"
        text = site_conf.read_text()
        assert edit(text) != text, "the edit changed nothing"
        site_conf.write_text(edit(text))
    with serving(config, port):
        return tls_probe.survey("127.0.0.1", port, server_name)


@pytest.mark.parametrize("key", ["rsa", "ec"])
@pytest.mark.parametrize("site", ["intranet", "mirror"])
def test_the_site_negotiates_the_stated_policy_and_nothing_else(tmp_path, site, key):
    found = site_survey(tmp_path, site, key)
    probes = found["probes"]
    for name in REFUSED:
        assert probes[name] is None, f"{site} ({key}) accepted {name}: {probes[name]}"
    for name in ("TLSv1.2 ECDHE AES-GCM", "TLSv1.2 ECDHE CHACHA20"):
        protocol, cipher = probes[name]
        assert protocol == "TLSv1.2" and cipher in STATED_TLS12, (name, probes[name])
    protocol, cipher = probes["TLSv1.3"]
    assert protocol == "TLSv1.3" and cipher in STATED_TLS13
    # Every TLS 1.2 suite OpenSSL knows, each offered alone: exactly the stated ones that the
    # certificate's kind can sign for are accepted.
    signs = "-ECDSA-" if key == "ec" else "-RSA-"
    assert found["tls12_accepted"] == sorted(c for c in STATED_TLS12 if signs in c)


def test_a_client_without_a_server_name_gets_the_same_policy_on_the_intranet(tmp_path):
    # LGWAN terminals may reach the intranet host by address: our site is the port's only one.
    found = site_survey(tmp_path, "intranet", "rsa", server_name=None)
    assert all(found["probes"][name] is None for name in REFUSED), found["probes"]
    assert found["probes"]["TLSv1.3"][0] == "TLSv1.3"
    assert found["tls12_accepted"] == sorted(c for c in STATED_TLS12 if "-RSA-" in c)


@pytest.mark.parametrize("server_name", [None, "other.example"])
def test_the_public_host_refuses_every_handshake_without_its_name(tmp_path, server_name):
    found = site_survey(tmp_path, "mirror", "rsa", server_name=server_name)
    assert found == {"probes": dict.fromkeys(tls_probe.PROBES), "tls12_accepted": []}


def test_every_tls_server_block_includes_the_policy():
    """nginx settles the protocol version and the TLS 1.3 suite with a port's default server,
    before the name is read: a TLS server block without the policy (the public host's
    refusing default server included) would decide for the others."""
    for site in ("intranet", "mirror"):
        text = render.render(DEPLOY / "nginx" / f"{site}.conf", SAMPLE)
        for block in server_blocks(text):
            if re.search(r"^\s*listen\s[^;]*\bssl\b", block, re.M):
                assert f"include {TLS_INCLUDE};" in block, f"{site}.conf:\n{block}"
            assert "ssl_protocols" not in block and "ssl_ciphers" not in block, block


def server_blocks(text: str) -> list[str]:
    blocks, depth, start = [], 0, None
    for match in re.finditer(r"^\s*server\s*\{|\{|\}", text, re.M):
        token = match.group(0).strip()
        if token.startswith("server") and depth == 0:
            start = match.start()
        depth += 1 if token.endswith("{") else -1
        if depth == 0 and start is not None:
            blocks.append(text[start:match.end()])
            start = None
    return blocks


def test_the_probes_are_refused_by_the_server_not_by_the_client(tmp_path):
    """Without the policy the same probes get through: Debian's defaults alone offer static
    RSA and CBC (what the city's scan found), and a server that allows TLS 1.0 gets it."""
    included = f"include {DEPLOY / 'nginx' / 'tls.conf'};"      # as nginx_config wrote it
    stock = site_survey(tmp_path / "stock", "mirror", "rsa",
                        edit=lambda text: text.replace(included, ""))
    assert stock["probes"]["TLSv1.2 static RSA"] and stock["probes"]["TLSv1.2 CBC"]
    permissive = site_survey(
        tmp_path / "permissive", "mirror", "rsa",
        edit=lambda text: text.replace(included, "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; "
                                                     "ssl_ciphers ALL:@SECLEVEL=0;"))
    assert all(permissive["probes"].values()), permissive["probes"]


def test_debian_stock_nginx_conf_is_what_the_sites_are_tried_under():
    stock = Path("/etc/nginx/nginx.conf")
    if not stock.exists():
        pytest.fail("nginx is not installed: run `make test` (it installs it)")
    lines = [line.strip() for line in stock.read_text().splitlines()
             if line.strip().startswith("ssl_")]
    assert lines == [line.strip() for line in DEBIAN_HTTP_TLS.splitlines()]


def test_no_session_tickets(tmp_path):
    port = free_port()
    with serving(nginx_config(tmp_path, "mirror", port=port, backend=free_port()), port):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
            tls.sendall(b"HEAD / HTTP/1.1\r\nHost: " + SERVER_NAME.encode()
                        + b"\r\nConnection: close\r\n\r\n")
            tls.recv(1024)
            assert tls.session is not None and not tls.session.has_ticket


def test_testssl_finds_no_static_rsa_no_cbc_and_forward_secrecy_only(tmp_path):
    """testssl.sh (Debian's package): protocols, cipher categories, forward secrecy, LUCKY13
    against the public host's site with an RSA certificate (the widest choice of suites)."""
    if subprocess.run(["sh", "-c", "command -v testssl"], capture_output=True).returncode:
        pytest.fail("testssl.sh is not installed: run `make test` (it installs it)")
    port = free_port()
    report = tmp_path / "testssl.json"
    with serving(nginx_config(tmp_path, "mirror", port=port, backend=free_port(), key="rsa"), port):
        run = subprocess.run(
            ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--protocols", "--std",
             "--pfs", "--lucky13", "--ip", "127.0.0.1", "--jsonfile", str(report),
             f"{SERVER_NAME}:{port}"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    findings = {item["id"]: item for item in json.loads(report.read_text())}
    for name in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_NULL", "cipherlist_aNULL",
                 "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA",
                 "cipherlist_AVERAGE"):
        assert findings[name]["finding"] == "not offered", findings[name]
    assert findings["TLS1_2"]["finding"] == "offered"
    assert findings["TLS1_3"]["finding"].startswith("offered")
    assert findings["PFS"]["severity"] == "OK"
    # The forward-secret suites testssl found are exactly the stated ones (the categories
    # above hold no other suite).
    assert set(findings["PFS_ciphers"]["finding"].split()) == (
        {c for c in STATED_TLS12 if "-RSA-" in c} | set(STATED_TLS13))
    assert findings["LUCKY13"]["severity"] == "OK", findings["LUCKY13"]
    weak = [item for item in findings.values()
            if item["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL")]
    assert not weak, weak
