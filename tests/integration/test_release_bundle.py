"""The release bundle and its installer, short of booting hosts (tests/e2e does that): what
the bundle holds and proves about itself, and install.sh on a directory tree (--root): it
stops on a missing value, makes what the guide lists with owners and modes, changes nothing
the second time, and --check names what differs."""

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.release import ROOT, release_bundle, unpack

CODE = "131016"
CITY = f"""\
MUNICIPALITY_CODE={CODE}
MUNICIPALITY_NAME=千代田区
ENVIRONMENT=prod
TLS_CERT=/etc/ssl/shinsei/server.crt
TLS_KEY=/etc/ssl/shinsei/server.key
"""
INTRANET_VALUES = CITY + """\
SERVER_NAME=shinsei.city.example.lg.jp
MANAGEMENT_ADDRESS=192.0.2.10 2001:db8::10   # the administrators' desk
PUBLIC_HOSTS=198.51.100.2 198.51.100.3
"""
PUBLIC_VALUES = CITY + """\
SERVER_NAME=status.city.example.lg.jp
MANAGEMENT_ADDRESS=192.0.2.10
INTRANET_HOST=192.0.2.1
UPLOAD_ADDRESS=198.51.100.2
KEYS_FROM=/root/carried
MUNICIPALITY_NAME_EN="Chiyoda City"
MUNICIPALITY_NAME_EASY="{千代田区|ちよだく}"
CONTACT="千代田区 給付金コールセンター 0120-000-000"
CONTACT_EN="Chiyoda City Benefit Call Centre, 0120-000-000 (in Japanese)"
CONTACT_EASY="{千代田区|ちよだく}の {電話|でんわ} 0120-000-000"
UPDATE_SCHEDULE="平日の午前10時ごろ"
UPDATE_SCHEDULE_EN="every weekday at about 10:00"
UPDATE_SCHEDULE_EASY="月曜日から 金曜日の あさ 10時ごろ"
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return unpack(release_bundle(), tmp_path_factory.mktemp("bundle"))


def new_root(path: Path) -> Path:
    """A tree with what an OS install leaves: root's accounts, nginx's folders, a host key,
    the city's certificate."""
    (path / "etc").mkdir(parents=True)
    for table in ("passwd", "group", "shadow", "gshadow"):
        (path / "etc" / table).write_text("root:x:0:0:root:/root:/bin/bash\n" if table == "passwd"
                                          else "root:x:0:\n" if table == "group" else "root:*::\n")
    for folder in ("etc/nginx/sites-available", "etc/nginx/sites-enabled", "etc/ssl/shinsei",
                   "etc/ssh/sshd_config.d", "etc/systemd/system"):
        (path / folder).mkdir(parents=True)
    (path / "etc/ssl/shinsei/server.crt").write_text("certificate\n")
    (path / "etc/ssl/shinsei/server.key").write_text("key\n")
    (path / "etc/ssh/ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAAC3Nza host\n")
    (path / "etc/nginx/sites-enabled/default").write_text("server { listen 80 default_server; }\n")
    return path


def install(bundle, root, role, values, *extra):
    config = root.parent / f"{root.name}-site.env"
    config.write_text(values, encoding="utf-8")
    return subprocess.run([str(bundle / "install.sh"), "--role", role, "--config", str(config),
                           "--root", str(root), *extra], capture_output=True, text=True, timeout=600)


def account(root, table, name):
    for line in (root / "etc" / table).read_text().splitlines():
        if line.split(":")[0] == name:
            return int(line.split(":")[2])
    raise AssertionError(f"{name} is not in {table}")


def owner_mode(root, path):
    info = (root / path.lstrip("/")).lstat()
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


@pytest.fixture(scope="module")
def intranet_root(bundle, tmp_path_factory):
    root = new_root(tmp_path_factory.mktemp("intranet") / "root")
    result = install(bundle, root, "intranet", INTRANET_VALUES)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def public_root(bundle, intranet_root, tmp_path_factory):
    root = new_root(tmp_path_factory.mktemp("public") / "root")
    # What the administrator carries from the intranet host on a medium.
    shutil.copytree(intranet_root / "var/lib/shinsei/carry-to-public", root / "root/carried")
    result = install(bundle, root, "public", PUBLIC_VALUES)
    assert result.returncode == 0, result.stdout + result.stderr
    root.joinpath("install-output.txt").write_text(result.stdout)
    return root


# --- the bundle ---------------------------------------------------------------------------

def test_bundle_lists_every_file_in_its_checksums(bundle):
    result = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=bundle,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {line.split(maxsplit=1)[1] for line in (bundle / "SHA256SUMS").read_text().splitlines()}
    present = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert present - listed == {"SHA256SUMS"}
    for name in ("install.sh", "sbom.cdx.json", "requirements/intranet.txt",
                 "requirements/public.txt", "deploy/site.env.example", "docs/install.ja.md",
                 "docs/install.en.md"):
        assert name in listed, name
    assert os.access(bundle / "install.sh", os.X_OK)


def test_the_bundle_its_wheel_and_its_pins_carry_one_version_of_this_build(bundle):
    from transfer import version

    release = bundle.name.removeprefix("shinsei-status-")
    assert re.fullmatch(rf"{re.escape(version.BASE)}\+g[0-9a-f]{{10}}(\.dirty)?", release), release
    [wheel] = (bundle / "wheelhouse").glob("shinsei_status-*.whl")
    assert wheel.name.startswith(f"shinsei_status-{release}-")
    stamped = zipfile.ZipFile(wheel).read("transfer/_build_version.py").decode()
    assert f'VERSION = "{release}"' in stamped
    for role in ("intranet", "public"):
        assert f"=={release} \\\n" in (bundle / "requirements" / f"{role}.txt").read_text()


def test_project_wheel_carries_compiled_catalogues_templates_and_static_files(bundle):
    [wheel] = (bundle / "wheelhouse").glob("shinsei_status-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for po in ROOT.glob("*/locale/*/LC_MESSAGES/*.po"):
        assert po.relative_to(ROOT).with_suffix(".mo").as_posix() in names
    for folder in ("intranet/templates", "intranet/static", "public_mirror/templates",
                   "public_mirror/static", "intranet/alembic/versions"):
        assert any(name.startswith(folder + "/") for name in names), folder


def test_every_package_is_pinned_by_hash_and_the_public_host_gets_no_intranet_stack(bundle):
    wheels = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in (bundle / "wheelhouse").glob("*.whl")}
    for role in ("intranet", "public"):
        text = (bundle / "requirements" / f"{role}.txt").read_text()
        pins = re.findall(r"^(\S+)==(\S+) \\\n    --hash=sha256:([0-9a-f]{64})", text, re.M)
        assert len(pins) == text.count("=="), f"{role}: a requirement without its hash"
        assert set(digest for *_, digest in pins) <= set(wheels.values())
    public = (bundle / "requirements" / "public.txt").read_text().lower()
    for package in ("sqlalchemy", "paramiko", "psycopg", "alembic"):
        assert f"\n{package}==" not in public


def test_sbom_names_every_wheel_with_its_hash(bundle):
    sbom = json.loads((bundle / "sbom.cdx.json").read_text())
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.5")
    digests = {c["hashes"][0]["content"] for c in sbom["components"]}
    assert digests == {hashlib.sha256(p.read_bytes()).hexdigest()
                       for p in (bundle / "wheelhouse").glob("*.whl")}
    assert all(c["purl"].startswith("pkg:pypi/") for c in sbom["components"])


def test_a_tampered_bundle_is_refused_before_anything_changes(bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy, copy_function=os.link)
    ini = copy / "deploy" / "intranet.ini"
    text = ini.read_text()
    ini.unlink()                    # a new file, not the hard-linked original
    ini.write_text(text.replace("login.max_failures = 5", "login.max_failures = 500"))
    root = new_root(tmp_path / "root")
    result = install(copy, root, "intranet", INTRANET_VALUES)
    assert result.returncode == 2
    assert "deploy/intranet.ini" in result.stderr and "SHA-256" in result.stderr
    assert not (root / "etc/shinsei").exists()


# --- the values file ----------------------------------------------------------------------

def test_a_missing_value_stops_the_installer_naming_the_value_and_the_file(bundle, tmp_path):
    root = new_root(tmp_path / "root")
    values = INTRANET_VALUES.replace(f"MUNICIPALITY_CODE={CODE}\n", "")
    result = install(bundle, root, "intranet", values)
    assert result.returncode == 2
    assert "MUNICIPALITY_CODE" in result.stderr and "root-site.env" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "etc/shinsei").exists() and not (root / "opt").exists()


def test_carried_host_keys_that_are_not_key_lines_are_named(bundle, tmp_path):
    root = new_root(tmp_path / "root")
    values = INTRANET_VALUES + "PUBLIC_HOST_KEYS=/root/public-host-keys\n"
    (root / "root").mkdir()
    (root / "root/public-host-keys").write_text("198.51.100.2 ssh-ed25519 AAAA\nnot a key\n")
    result = install(bundle, root, "intranet", values)
    assert result.returncode == 2 and "/root/public-host-keys:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_value_names_its_line_and_why(bundle, tmp_path):
    root = new_root(tmp_path / "root")
    result = install(bundle, root, "intranet", INTRANET_VALUES.replace(CODE, "13101"))
    assert result.returncode == 2
    assert "root-site.env:1: MUNICIPALITY_CODE" in result.stderr and "6桁" in result.stderr
    result = install(bundle, root, "public", PUBLIC_VALUES.replace("INTRANET_HOST=192.0.2.1",
                                                                  "INTRANET_HOST=intranet"))
    assert result.returncode == 2 and "INTRANET_HOST" in result.stderr
    assert "Traceback" not in result.stderr


# --- the intranet host --------------------------------------------------------------------

def test_intranet_configuration_names_the_city_and_keeps_secrets_private(intranet_root):
    root = intranet_root
    ini = (root / "etc/shinsei/intranet.ini").read_text()
    assert f"transfer.origin = {CODE}:prod" in ini
    assert not re.search(r"@[A-Z][A-Z0-9_]*@", ini)
    web = account(root, "passwd", "shinsei-web")
    builder, signer, pusher = (account(root, "passwd", f"shinsei-{step}")
                               for step in ("builder", "signer", "pusher"))
    assert owner_mode(root, "/etc/shinsei/session-secret") == (web, web, 0o600)
    assert owner_mode(root, "/etc/shinsei/intranet.env")[2] == 0o600
    assert "SHINSEI_SESSION_SECRET_FILE=/etc/shinsei/session-secret" in (
        root / "etc/shinsei/intranet.env").read_text()
    # The publication's three identities: each key in its own step's folder, readable by it
    # alone; the intranet ini names no signing key and no SSH key, and the same destinations
    # as the pusher (the recorder believes reports for those alone).
    for key, owner in (("builder/lookup.key", builder), ("signer/sign.key", signer),
                       ("pusher/id_ed25519", pusher)):
        assert owner_mode(root, f"/etc/shinsei/{key}") == (owner, owner, 0o600)
        assert owner_mode(root, f"/etc/shinsei/{key.split('/')[0]}")[1:] == (owner, 0o750)
    settings = [line.split("=")[0].strip() for line in ini.splitlines() if not line.startswith("#")]
    assert "transfer.signing_keys" not in settings and "transfer.client_key" not in settings
    assert "sftp://shinsei-upload@198.51.100.3:22/inbox" in ini
    assert "transfer.lookup_key = /etc/shinsei/builder/lookup.key" in ini
    pusher_ini = (root / "etc/shinsei/pusher.ini").read_text()
    assert "sftp://shinsei-upload@198.51.100.3:22/inbox" in pusher_ini
    assert f"transfer.origin = {CODE}:prod" in pusher_ini
    assert not re.search(r"@[A-Z][A-Z0-9_]*@", pusher_ini)
    assert owner_mode(root, "/etc/shinsei/pusher.ini")[1:] == (pusher, 0o640)
    assert owner_mode(root, "/etc/shinsei/signer.ini")[1:] == (signer, 0o640)
    assert (root / "etc/shinsei/pusher/trusted/intranet-sign.pub").read_bytes() == (
        root / "etc/shinsei/signer/sign.key.pub").read_bytes()
    assert owner_mode(root, "/etc/shinsei/pusher/trusted")[1:] == (pusher, 0o750)
    # Key settings name folders: a key rotation adds and removes files, edits no ini.
    assert "transfer.signing_keys = /etc/shinsei/signer\n" in (
        root / "etc/shinsei/signer.ini").read_text()
    assert "transfer.public_keys = /etc/shinsei/pusher/trusted\n" in pusher_ini
    allowed = (root / "etc/systemd/system/shinsei-transfer-push.service.d/addresses.conf")
    assert "IPAddressAllow=198.51.100.3" in allowed.read_text()
    carried = sorted(p.name for p in (root / "var/lib/shinsei/carry-to-public").iterdir())
    assert carried == ["intranet-sign.pub", "lookup.key", "upload_ed25519.pub"]
    # Every folder a unit names in ReadWritePaths exists, owned by the unit's user; each
    # hand-over folder is its writer's, group its one reader, setgid.
    prune = account(root, "passwd", "shinsei-prune")
    assert owner_mode(root, "/var/lib/shinsei/imports") == (web, web, 0o700)
    assert owner_mode(root, "/var/lib/shinsei/audit-archive") == (prune, prune, 0o700)
    spool = "/var/spool/shinsei/transfer"
    assert owner_mode(root, f"{spool}/built") == (builder, signer, 0o2750)
    assert owner_mode(root, f"{spool}/signed") == (signer, pusher, 0o2750)
    assert owner_mode(root, f"{spool}/results") == (pusher, builder, 0o2750)
    # The checkpoint file: the signer's alone to write, readable by the staff app, the
    # recorder and the pruner; checked with the keys the ini names (a folder they can enter).
    checkpoints = "/var/lib/shinsei-transfer/checkpoints"
    assert owner_mode(root, checkpoints) == (signer, signer, 0o755)
    assert owner_mode(root, f"{checkpoints}/audit-checkpoints.jsonl") == (signer, signer, 0o644)
    assert f"audit.checkpoint_file = {checkpoints}/audit-checkpoints.jsonl" in ini
    assert "audit.checkpoint_keys = /etc/shinsei/checkpoint-keys" in ini
    assert (root / "etc/shinsei/checkpoint-keys/intranet-sign.pub").read_bytes() == (
        root / "etc/shinsei/signer/sign.key.pub").read_bytes()
    assert owner_mode(root, "/etc/shinsei/checkpoint-keys")[2] == 0o755
    # The staff app may touch the approval trigger (its unit's ReadWritePaths) and no more.
    assert "publication.trigger_file = /var/lib/shinsei/publish-requested" in ini
    assert owner_mode(root, "/var/lib/shinsei/publish-requested") == (web, web, 0o644)
    # And the request's, which starts the preparation of its table.
    assert "publication.prepare_file = /var/lib/shinsei/prepare-requested" in ini
    assert owner_mode(root, "/var/lib/shinsei/prepare-requested") == (web, web, 0o644)


def test_intranet_units_are_enabled_and_the_firewall_keeps_ssh(intranet_root):
    root = intranet_root
    wants = {p.name for p in (root / "etc/systemd/system").glob("*.wants/*")}
    assert {"shinsei-intranet-web.service", "shinsei-transfer.timer", "shinsei-audit-prune.timer",
            "shinsei-transfer-approved.path", "shinsei-transfer-requested.path",
            "shinsei-audit-checkpoint.timer", "shinsei-nftables.service",
            "shinsei-backup.timer"} <= wants
    rules = root / "etc/shinsei/nftables.nft"
    text = rules.read_text()
    # The pusher's rule names its account (resolved by nft at each load, so a restored copy
    # means the new host's pusher); this machine has no such account, so nobody stands in.
    assert 'meta skuid "shinsei-pusher" drop' in text
    checked = root.parent / "nftables-check.nft"
    checked.write_text(text.replace('"shinsei-pusher"', '"nobody"'))
    subprocess.run(["nft", "-c", "-f", str(checked)], check=True)
    assert "flush ruleset" not in text
    assert "tcp dport 22 ip saddr { 192.0.2.10 } accept" in text
    assert "tcp dport 22 ip6 saddr { 2001:db8::10 } accept" in text
    assert "nd-neighbor-solicit" in text
    # nginx serves static files through a link that does not name the Python version.
    assert os.readlink(root / "opt/shinsei/static/intranet").endswith("/intranet/static")
    assert (root / "opt/shinsei/venv/lib").glob("python3*/site-packages/intranet/locale/en/"
                                                "LC_MESSAGES/shinsei.mo")


def test_second_run_changes_nothing_and_check_finds_nothing(bundle, intranet_root):
    again = install(bundle, intranet_root, "intranet", INTRANET_VALUES)
    assert again.returncode == 0 and "変更はありません" in again.stdout, again.stdout
    assert "変更:" not in again.stdout
    check = install(bundle, intranet_root, "intranet", INTRANET_VALUES, "--check")
    assert check.returncode == 0 and "違いはありません" in check.stdout, check.stdout


def test_a_carried_host_keys_file_that_is_gone_changes_nothing_and_is_said(bundle, intranet_root):
    # A fresh host restored from a backup, installed with the values file of the first:
    # the carried file is long gone, and the backup set brings known_hosts back.
    values = INTRANET_VALUES + "PUBLIC_HOST_KEYS=/root/public-host-keys\n"
    again = install(bundle, intranet_root, "intranet", values)
    assert again.returncode == 0 and "変更はありません" in again.stdout, again.stdout + again.stderr
    assert "注: PUBLIC_HOST_KEYS = /root/public-host-keys がありません: 公開ホストの鍵はまだ" \
           in again.stdout
    check = install(bundle, intranet_root, "intranet", values, "--check")
    assert check.returncode == 0 and "違いはありません" in check.stdout, check.stdout


def test_check_names_what_differs_and_never_overwrites_the_citys_files(bundle, intranet_root):
    root = intranet_root
    secret, ini = root / "etc/shinsei/session-secret", root / "etc/shinsei/intranet.ini"
    secret.chmod(0o644)
    ini.write_text(ini.read_text().replace("login.max_failures = 5", "login.max_failures = 3"))
    check = install(bundle, root, "intranet", INTRANET_VALUES, "--check")
    assert check.returncode == 1
    assert "/etc/shinsei/session-secret: モードを 0600 にする（今は 0644）" in check.stdout
    assert "/etc/shinsei/intranet.ini: テンプレートと違う内容です（上書きしません）" in check.stdout
    assert stat.S_IMODE(secret.stat().st_mode) == 0o644        # --check changed nothing
    fixed = install(bundle, root, "intranet", INTRANET_VALUES)
    assert fixed.returncode == 0 and "session-secret" in fixed.stdout
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert "login.max_failures = 3" in ini.read_text()


# --- the public host ----------------------------------------------------------------------

def test_public_inbox_lets_the_receiver_list_read_and_remove_uploads(public_root):
    root = public_root
    upload = account(root, "passwd", "shinsei-upload")
    mirror = account(root, "group", "shinsei-mirror")
    # Group rwx for the receiver; setgid so every upload is in the receiver's group.
    assert owner_mode(root, "/srv/shinsei/inbox") == (upload, mirror, 0o2770)
    assert owner_mode(root, "/srv/shinsei") == (0, 0, 0o755)
    # The residents' page writes its usage counts; the upload account (group) only reads them.
    assert owner_mode(root, "/srv/shinsei/usage") == (
        account(root, "passwd", "shinsei-mirror"), account(root, "group", "shinsei-upload"),
        0o2750)
    assert "ForceCommand internal-sftp -u 0027" in (
        root / "etc/ssh/sshd_config.d/00-shinsei.conf").read_text()
    # Keys only from now on: said when no administrator has one yet.
    assert "管理者の公開鍵が見つかりません" in (root / "install-output.txt").read_text()


def test_public_host_trusts_the_carried_keys_and_serves_the_citys_origin(public_root,
                                                                       intranet_root):
    root = public_root
    assert f"mirror.origin = {CODE}:prod" in (root / "etc/shinsei/mirror.ini").read_text()
    assert (root / "etc/shinsei/trusted/intranet-sign.pub").read_bytes() == (
        intranet_root / "etc/shinsei/signer/sign.key.pub").read_bytes()
    mirror = account(root, "passwd", "shinsei-mirror")
    assert owner_mode(root, "/etc/shinsei/lookup.key") == (mirror, mirror, 0o600)
    assert owner_mode(root, "/etc/shinsei/lookup-keys")[1:] == (mirror, 0o750)
    assert "mirror.maintenance_file = /etc/shinsei/maintenance" in (
        root / "etc/shinsei/mirror.ini").read_text()
    client = (intranet_root / "etc/shinsei/pusher/id_ed25519.pub").read_text().split()[1]
    assert (root / "etc/ssh/authorized_keys/shinsei-upload").read_text().startswith(
        f"restrict ssh-ed25519 {client}")
    assert not (root / "etc/nginx/sites-enabled/default").exists()
    assert (root / "etc/shinsei/nginx-tls.conf").read_bytes() == (
        ROOT / "deploy/nginx/tls.conf").read_bytes()
    assert "198.51.100.2 ssh-ed25519 AAAAC3Nza" in (root / "install-output.txt").read_text()
    site_packages = next((root / "opt/shinsei/venv/lib").glob("python3*/site-packages"))
    # One wheel for both hosts; the intranet's stack stays off the public one.
    for absent in ("sqlalchemy", "paramiko", "psycopg", "alembic"):
        assert not (site_packages / absent).exists(), absent


def test_public_second_check_finds_nothing(bundle, public_root):
    check = install(bundle, public_root, "public", PUBLIC_VALUES, "--check")
    assert check.returncode == 0, check.stdout + check.stderr


# --- the balancer (issue 29 item 1) -------------------------------------------------------

BALANCER_VALUES = """\
MUNICIPALITY_NAME=千代田区
SERVER_NAME=status.city.example.lg.jp
TLS_CERT=/etc/ssl/shinsei/server.crt
TLS_KEY=/etc/ssl/shinsei/server.key
PUBLIC_HOSTS=198.51.100.2 2001:db8::3
PUBLIC_HOSTS_CA=/etc/ssl/shinsei/server.crt
MUNICIPALITY_NAME_EN="Chiyoda City"
MUNICIPALITY_NAME_EASY="{千代田区|ちよだく}"
CONTACT="千代田区 給付金コールセンター 0120-000-000"
CONTACT_EN="Chiyoda City Benefit Call Centre, 0120-000-000 (in Japanese)"
CONTACT_EASY="{千代田区|ちよだく}の {電話|でんわ} 0120-000-000"
"""


def test_the_balancer_role_writes_haproxy_its_page_and_its_certificate(bundle, tmp_path):
    root = new_root(tmp_path / "root")
    result = install(bundle, root, "balancer", BALANCER_VALUES)
    assert result.returncode == 0, result.stdout + result.stderr
    cfg = (root / "etc/haproxy/haproxy.cfg").read_text()
    assert not re.search(r"@[A-Z][A-Z0-9_]*@", cfg)
    assert ('server public1 198.51.100.2:443 agent-send "public1\\n"\n'
            '    server public2 [2001:db8::3]:443 agent-send "public2\\n"') in cfg
    # The sequence agent: its settings name the same hosts under the same names.
    agent = (root / "etc/shinsei/balancer-agent.ini").read_text()
    assert "public1 = 198.51.100.2:443\npublic2 = [2001:db8::3]:443\n" in agent
    assert "listen = 127.0.0.1:9707" in agent and "agent-port 9707 " in cfg
    assert (root / "opt/shinsei/balancer/sequence_agent.py").read_bytes() == (
        bundle / "deploy/balancer/sequence_agent.py").read_bytes()
    assert "shinsei-balancer-agent.service" in {
        p.name for p in (root / "etc/systemd/system").glob("*.wants/*")}
    assert owner_mode(root, "/etc/haproxy/shinsei.pem") == (0, 0, 0o600)
    assert (root / "etc/haproxy/shinsei.pem").read_text() == "certificate\nkey\n"
    page = (root / "etc/haproxy/errors/shinsei-503.http").read_bytes()
    assert page.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert "<ruby>千代田区<rt>ちよだく</rt></ruby>の".encode() in page
    assert install(bundle, root, "balancer", BALANCER_VALUES, "--check").returncode == 0


def test_the_balancer_role_refuses_an_engine_it_does_not_know(bundle, tmp_path):
    root = new_root(tmp_path / "root")
    result = install(bundle, root, "balancer", BALANCER_VALUES + "BALANCER_ENGINE=varnish\n")
    assert result.returncode == 2 and "BALANCER_ENGINE" in result.stderr
    assert "haproxy か nginx" in result.stderr and "Traceback" not in result.stderr
    result = install(bundle, root, "balancer", BALANCER_VALUES.replace("PUBLIC_HOSTS=", "#"))
    assert result.returncode == 2 and "PUBLIC_HOSTS が設定されていません" in result.stderr


def test_the_balancer_role_with_nginx_writes_the_upstream_site(bundle, tmp_path):
    root = new_root(tmp_path / "root")
    result = install(bundle, root, "balancer", BALANCER_VALUES + "BALANCER_ENGINE=nginx\n")
    assert result.returncode == 0, result.stdout + result.stderr
    site = (root / "etc/nginx/sites-available/shinsei-balancer.conf").read_text()
    assert "hash $remote_addr consistent;" in site and "server [2001:db8::3]:443" in site
    assert not (root / "etc/nginx/sites-enabled/default").exists()
    assert "ただいま確認できません" in (
        root / "opt/shinsei/errors/balancer/shinsei-unavailable.html").read_text()


def test_a_public_host_behind_a_balancer_believes_its_forwarded_address_only(
        bundle, intranet_root, tmp_path):
    root = new_root(tmp_path / "root")
    shutil.copytree(intranet_root / "var/lib/shinsei/carry-to-public", root / "root/carried")
    result = install(bundle, root, "public", PUBLIC_VALUES + "BALANCER_ADDRESSES=198.51.100.9\n")
    assert result.returncode == 0, result.stdout + result.stderr
    site = (root / "etc/nginx/sites-available/shinsei-mirror.conf").read_text()
    assert ("set_real_ip_from 198.51.100.9;\n    real_ip_header X-Forwarded-For;\n"
            "    real_ip_recursive off;") in site
