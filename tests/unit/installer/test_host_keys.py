"""Two public hosts presenting one SSH host key (VMs cloned from one template): the intranet
host's installer refuses to pin them, exits non-zero, and says in Japanese which addresses,
why, and the command that gives a clone keys of its own; each side prints fingerprints the
administrator can compare."""

import subprocess
from pathlib import Path

import pytest
from shinsei_installer import __main__ as installer
from shinsei_installer import intranet, public, sshd
from shinsei_installer.host import Host, InstallError

from tests.e2e import documented

FIRST, SECOND, THIRD = "10.0.0.11", "10.0.0.12", "10.0.0.13"
INTRANET_VALUES = """\
MUNICIPALITY_CODE=131016
MUNICIPALITY_NAME=千代田区
ENVIRONMENT=prod
SERVER_NAME=shinsei.city.example.lg.jp
TLS_CERT=/etc/ssl/shinsei/server.crt
TLS_KEY=/etc/ssl/shinsei/server.key
MANAGEMENT_ADDRESS=192.0.2.10
PUBLIC_HOSTS=10.0.0.11 10.0.0.12 10.0.0.13
PUBLIC_HOST_KEYS=/root/public-host-keys
"""


def host_key(folder: Path, name: str) -> str:
    """A fresh ed25519 host key's public line ("ssh-ed25519 AAAA… comment")."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                    str(folder / name)], check=True)
    return (folder / f"{name}.pub").read_text().strip()


def known_hosts_line(address: str, key: str) -> str:
    kind, blob = key.split()[:2]
    return f"{address} {kind} {blob}\n"


def ssh_keygen_fingerprint(key_file: Path) -> str:
    return subprocess.run(["ssh-keygen", "-l", "-f", str(key_file)], capture_output=True,
                          text=True, check=True).stdout.split()[1]


def test_a_clone_is_found_by_its_key_and_only_a_clone(tmp_path):
    template, other = host_key(tmp_path, "template"), host_key(tmp_path, "other")
    lines = known_hosts_line(FIRST, template) + known_hosts_line(SECOND, template) \
        + known_hosts_line(THIRD, other)
    kind, blob = template.split()[:2]
    assert intranet.shared_host_keys(lines) == {(kind, blob): [FIRST, SECOND]}
    # The same host's line carried twice, and hosts with keys of their own: nothing to say.
    assert intranet.shared_host_keys(known_hosts_line(FIRST, template) * 2
                                     + known_hosts_line(THIRD, other)) == {}


def test_the_install_stops_naming_both_addresses_and_the_fix(tmp_path, capsys):
    root = tmp_path / "root"
    (root / "root").mkdir(parents=True)
    template = host_key(tmp_path, "template")
    (root / "root/public-host-keys").write_text(
        known_hosts_line(FIRST, template) + known_hosts_line(SECOND, template)
        + known_hosts_line(THIRD, host_key(tmp_path, "own")))
    values = tmp_path / "site.env"
    values.write_text(INTRANET_VALUES, encoding="utf-8")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "SHA256SUMS").write_text("")
    code = installer.main(["--role", "intranet", "--config", str(values), "--root", str(root),
                           "--bundle", str(bundle)])
    said = capsys.readouterr().err
    assert code == 2
    assert f"{FIRST} と {SECOND}" in said and THIRD not in said
    assert "同じ SSH ホスト鍵" in said and "複製" in said
    assert ssh_keygen_fingerprint(tmp_path / "template.pub") in said
    # The guide's commands (docs/install.*.md, "new-host-keys"), as the guide gives them.
    for command in documented.blocks("install")["new-host-keys"].splitlines():
        assert f"  {command}\n" in said or f"  {command} " in said, command
    assert "./install.sh --role public" in said
    # Nothing was installed: the refusal comes before any step.
    assert sorted(p.name for p in root.iterdir()) == ["root"]


def test_with_a_key_of_its_own_each_host_is_pinned_and_listed_with_its_fingerprint(tmp_path):
    root = tmp_path / "root"
    keys = {address: host_key(tmp_path, address) for address in (FIRST, SECOND)}
    carried = root / "root/public-host-keys"
    carried.parent.mkdir(parents=True)
    carried.write_text("".join(known_hosts_line(a, k) for a, k in keys.items()))
    intranet._check_host_keys(Host(root), "/root/public-host-keys")     # no refusal
    pinned = root / intranet.PUSHER_KEYS.lstrip("/") / "known_hosts"
    pinned.parent.mkdir(parents=True)
    pinned.write_bytes(carried.read_bytes())
    said = intranet.afterwards(Host(root))
    for address in keys:
        assert f"{address}: ssh-ed25519 {ssh_keygen_fingerprint(tmp_path / f'{address}.pub')}" in said


def test_a_refusal_for_a_clone_is_an_install_error(tmp_path):
    template = host_key(tmp_path, "template")
    (tmp_path / "keys").write_text(known_hosts_line(FIRST, template)
                                   + known_hosts_line(SECOND, template))
    with pytest.raises(InstallError, match="同じ SSH ホスト鍵"):
        intranet._check_host_keys(Host(tmp_path), "/keys")


def test_the_public_host_prints_its_own_fingerprint(tmp_path):
    root = tmp_path / "root"
    (root / "etc/ssh").mkdir(parents=True)
    line = host_key(tmp_path, "host")
    (root / "etc/ssh/ssh_host_ed25519_key.pub").write_text(line + "\n")
    carry = root / public.CARRY.lstrip("/")
    carry.mkdir(parents=True)
    (carry / "known_hosts").write_bytes(public._known_hosts_line(Host(root), FIRST))
    said = public.afterwards(Host(root))
    assert known_hosts_line(FIRST, line).strip() in said
    assert f"指紋: {ssh_keygen_fingerprint(tmp_path / 'host.pub')}" in said


def test_a_fingerprint_is_ssh_keygens(tmp_path):
    line = host_key(tmp_path, "k")
    assert sshd.fingerprint(line) == ssh_keygen_fingerprint(tmp_path / "k.pub")
    assert sshd.fingerprint("ssh-ed25519 AAAAC3Nza") == "SHA256:?（鍵として読めません）"
