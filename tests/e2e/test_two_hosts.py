"""Two hosts in network namespaces, the deploy/ rules applied, and the one-way flow proven.

intranet namespace: PostgreSQL (unix socket only), the transfer job; the staff app is driven
through WebTest against the same database. public namespace: OpenSSH sshd with the
deploy/ upload block, the receiver, the residents' page. A veth pair joins them; each
namespace loads its deploy/nftables rule set.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import transaction
import webtest
from sqlalchemy import text

from intranet import main as intranet_main
from intranet import migrations
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.programmes.models import Programme
from tests.conftest import PASSWORD, TEST_ACTOR, csrf_token, login
from tests.databases import PostgresCluster, postgres_bindir
from tests.sshd import UPLOAD_USER, Sshd
from tests.tampering import insider
from transfer.keys import generate_lookup_key, generate_signing_key

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                reason="network namespaces need root and iproute2")
BIN = Path(sys.executable).parent
DEPLOY = Path(__file__).parents[2] / "deploy"
INTRANET_IP, PUBLIC_IP = "10.231.7.1", "10.231.7.2"


def sh(*command, check=True, timeout=120):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{command}: {result.stdout}{result.stderr}")
    return result


class Hosts:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        tag = uuid.uuid4().hex[:6]
        self.intranet, self.public = f"shinsei-in-{tag}", f"shinsei-pub-{tag}"

    def run_in(self, ns, *command, **kw):
        return sh("ip", "netns", "exec", ns, *command, **kw)

    def up(self):
        sh("ip", "netns", "add", self.intranet)
        sh("ip", "netns", "add", self.public)
        a, b = f"vi{self.intranet[-6:]}", f"vp{self.public[-6:]}"
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", a, "netns", self.intranet)
        sh("ip", "link", "set", b, "netns", self.public)
        for ns, dev, ip in ((self.intranet, a, INTRANET_IP), (self.public, b, PUBLIC_IP)):
            self.run_in(ns, "ip", "addr", "add", f"{ip}/24", "dev", dev)
            self.run_in(ns, "ip", "link", "set", dev, "up")
            self.run_in(ns, "ip", "link", "set", "lo", "up")
        rules = {
            self.intranet: (DEPLOY / "nftables" / "intranet-host.nft").read_text()
            .replace("10.0.0.2", PUBLIC_IP).replace("10.0.0.0/24", "10.231.7.0/24")
            .replace("10.0.0.1", INTRANET_IP),
            self.public: (DEPLOY / "nftables" / "public-host.nft").read_text()
            .replace("10.0.0.1", INTRANET_IP),
        }
        for ns, rule_set in rules.items():
            path = self.workdir / f"{ns}.nft"
            path.write_text(rule_set)
            self.run_in(ns, "nft", "-f", str(path))
            path.unlink()

    def down(self):
        for ns in (self.intranet, self.public):
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", ns, check=False)


@pytest.fixture
def hosts(tmp_path):
    try:
        pair = Hosts(tmp_path)
        pair.up()
    except AssertionError as error:
        pytest.skip(f"network namespaces cannot be created here: {error}")
    yield pair
    pair.down()


def wait_for_page(hosts, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if hosts.run_in(hosts.public, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        f"http://{PUBLIC_IP}/healthz", check=False).stdout in ("200", "503"):
            return
        time.sleep(0.2)
    raise AssertionError("the residents' page did not start")


def lookup(hosts, number):
    return hosts.run_in(hosts.public, "curl", "-s", "-X", "POST", "--data",
                        f"programme=p2020&lang=ja&receipt_number={number}",
                        f"http://{PUBLIC_IP}/lookup").stdout


def test_one_way_flow_between_two_hosts(hosts, tmp_path):
    # --- intranet host: PostgreSQL in its namespace, reachable here through its socket.
    cluster = PostgresCluster(postgres_bindir(), prefix=("ip", "netns", "exec", hosts.intranet),
                              listen="")
    cluster.root.chmod(0o755)
    cluster.start()
    sshd = mirror = None
    try:
        cluster.admin("CREATE DATABASE intranet")
        url = cluster.url("intranet")
        engine = get_engine({"sqlalchemy.url": url})
        factory = get_session_factory(engine)
        migrations.initialise(engine, factory, TEST_ACTOR)
        with transaction.manager:
            dbsession = get_tm_session(factory, transaction.manager)
            dbsession.add(Programme(code="p2020", name="特別定額給付金"))
            from intranet.users.services import add_user

            for role in ("staff", "supervisor", "security_officer"):
                add_user(dbsession, TEST_ACTOR, role, role, role, PASSWORD)

        keys, trusted = tmp_path / "keys", tmp_path / "trusted"
        keys.mkdir()
        trusted.mkdir()
        generate_signing_key(keys / "sign.key", keys / "sign.key.pub")
        generate_lookup_key(keys / "lookup.key")
        shutil.copy(keys / "sign.key.pub", trusted / "sign.pub")

        # --- public host: sshd with the deploy block, the receiver, the page.
        sshd = Sshd(address=PUBLIC_IP, port=22, prefix=("ip", "netns", "exec", hosts.public))
        sshd.start()
        known = sshd.known_hosts(tmp_path / "known_hosts")
        mirror_ini = tmp_path / "mirror.ini"
        mirror_ini.write_text(
            "[app:main]\nuse = egg:shinsei-status#mirror\n"
            f"mirror.inbox = {sshd.inbox}\nmirror.quarantine = {tmp_path}/quarantine\n"
            f"mirror.state = {tmp_path}/state\nmirror.trusted_keys = {trusted}\n"
            f"mirror.lookup_key = {keys}/lookup.key\nmirror.origin = 142158:prod\n"
            "mirror.rate_limit = 1000\nsite.municipality_name = テスト市\n"
            "site.municipality_name.en = Test City\nsite.municipality_name.ja-easy = テスト市\n")
        def start_mirror():
            return subprocess.Popen(["ip", "netns", "exec", hosts.public,
                                     str(BIN / "shinsei-mirror"), "-c", str(mirror_ini), "serve",
                                     "--host", PUBLIC_IP, "--port", "80", "--processes", "1",
                                     "--threads", "2"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)

        mirror = start_mirror()
        intranet_ini = tmp_path / "intranet.ini"

        def write_intranet_ini(signing_keys):
            intranet_ini.write_text(
                "[app:main]\nuse = egg:shinsei-status#intranet\n"
                f"sqlalchemy.url = {url.replace('%', '%%')}\n"
                "shinsei.municipality_code = 142158\nshinsei.environment = prod\n"
                f"transfer.signing_keys = {signing_keys}\ntransfer.lookup_key = {keys}/lookup.key\n"
                f"transfer.destinations = sftp://{UPLOAD_USER}@{PUBLIC_IP}:22/inbox\n"
                f"transfer.known_hosts = {known}\ntransfer.client_key = {sshd.client_key}\n"
                "transfer.timeout = 5\ntransfer.retries = 1\n")

        write_intranet_ini(f"{keys}/sign.key")

        # 1. A CSV imported on the intranet (the CLI, in the intranet namespace) ...
        source = tmp_path / "applicants.csv"
        source.write_bytes("受付番号,氏名,申請日,状況\r\n1234-5678,山田　太郎,2020/6/1,受付済\r\n"
                           .encode("cp932"))
        hosts.run_in(hosts.intranet, str(BIN / "shinsei-intranet"), "-c", str(intranet_ini),
                     "import", str(source), "--programme", "p2020")
        # ... a status changed by staff through the web UI, a publication requested and approved,
        app = webtest.TestApp(intranet_main({}, **{"sqlalchemy.url": url,
                                                  "session.secret": "e" * 40,
                                                  "session.secure_cookie": "false"}))
        login(app, "staff")
        found = app.get("/applications", {"receipt": "12345678"})
        detail = app.get(re.search(r'href="http://localhost(/applications/\d+)"', found.text).group(1))
        version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)
        change = {"csrf_token": csrf_token(detail), "version": version, "status": "reviewing"}
        asked = app.post(detail.request.path + "/status", change)
        assert 'id="confirm-change"' in asked.text   # the screen shows before → after first
        app.post(detail.request.path + "/status", {**change, "confirm": "1"})

        def publish_once():
            app.reset()
            login(app, "staff")
            page = app.get("/publications")
            app.post("/publications", {"csrf_token": csrf_token(page), "note": "e2e"})
            app.reset()
            login(app, "supervisor")
            page = app.get("/publications")
            pid = re.search(r"/publications/(\d+)/decision", page.text).group(1)
            digest = re.search(r'name="digest" value="([0-9a-f]+)"', page.text).group(1)
            app.post(f"/publications/{pid}/decision", {"csrf_token": csrf_token(page),
                                                       "decision": "approve", "digest": digest})
            # ... and pushed by the transfer job in the intranet namespace over SFTP.
            pushed = hosts.run_in(hosts.intranet, str(BIN / "shinsei-transfer"), "publish", "-c",
                                  str(intranet_ini), check=False)
            assert "delivered" in pushed.stdout, pushed.stdout + pushed.stderr
            hosts.run_in(hosts.public, str(BIN / "shinsei-mirror"), "-c", str(mirror_ini), "receive")

        publish_once()
        wait_for_page(hosts)
        answer = lookup(hosts, "1234-5678")
        main = answer[answer.find("<main"):answer.find("</main>")]
        assert "審査中です" in answer and "時点のものです" in answer, main

        # 2. Every connection from the public host towards the intranet host fails.
        probe = ("import socket,sys\nfor port in (22, 80, 443, 5432, 6543):\n"
                 " s = socket.socket(); s.settimeout(1)\n"
                 " try:\n  s.connect((sys.argv[1], port)); print('OPEN', port)\n"
                 " except OSError: pass\n")
        opened = hosts.run_in(hosts.public, sys.executable, "-c", probe, INTRANET_IP).stdout
        assert "OPEN" not in opened

        # 3. A tampered and an old snapshot dropped into the inbox are refused; the live one answers.
        live = sorted((tmp_path / "state").glob("active.snapshot"))[0].read_bytes()
        tampered = bytearray(live)
        tampered[40] ^= 0x01   # inside the signed header
        (sshd.inbox / "tampered.bin").write_bytes(bytes(tampered))
        (sshd.inbox / "again.bin").write_bytes(live)
        refused = hosts.run_in(hosts.public, str(BIN / "shinsei-mirror"), "-c", str(mirror_ini),
                               "receive", check=False)
        assert "rejected tampered.bin: SignatureRejected" in refused.stderr
        # The exact bytes already active are a no-op, not a refusal (issue 12, break 6).
        assert "accepted again.bin" in refused.stdout and "already active" in refused.stdout
        assert "審査中です" in lookup(hosts, "1234-5678")

        # 4. Key rotation: new key introduced (both trusted, both sign), then the old retired.
        #    The page re-reads its trusted directory with each snapshot: no restart.
        generate_signing_key(keys / "sign-2.key", keys / "sign-2.key.pub")
        shutil.copy(keys / "sign-2.key.pub", trusted / "sign-2.pub")
        write_intranet_ini(f"{keys}/sign.key {keys}/sign-2.key")
        publish_once()
        assert "審査中です" in lookup(hosts, "1234-5678")
        # The first snapshot, offered again now that a newer one is live, is a rollback.
        (sshd.inbox / "old.bin").write_bytes(live)
        refused = hosts.run_in(hosts.public, str(BIN / "shinsei-mirror"), "-c", str(mirror_ini),
                               "receive", check=False)
        assert "rejected old.bin: RollbackRefused" in refused.stderr
        (trusted / "sign.pub").unlink()
        write_intranet_ini(f"{keys}/sign-2.key")
        publish_once()
        assert "審査中です" in lookup(hosts, "1234-5678")

        # 5. The security officer's transfer log lists every push; the chain verifies, then
        #    fails once a record is altered.
        app.reset()
        login(app, "security_officer")
        log = app.get("/transfers")
        assert log.text.count("転送済") >= 3 and "改ざん検査: 正常" in log.text
        verify = hosts.run_in(hosts.intranet, str(BIN / "shinsei-intranet"), "-c", str(intranet_ini),
                              "audit", "verify")
        assert "audit chain OK" in verify.stdout
        with insider(engine) as conn:
            conn.execute(text("UPDATE audit_records SET details = replace(details, 'delivered', "
                              "'failed') WHERE action = 'transfer.delivery'"))
        broken = hosts.run_in(hosts.intranet, str(BIN / "shinsei-intranet"), "-c", str(intranet_ini),
                              "audit", "verify", check=False)
        assert broken.returncode == 1 and "BROKEN" in broken.stderr
        app.app.registry["db_engine"].dispose()
        engine.dispose()
    finally:
        if mirror:
            os.killpg(mirror.pid, 9)
            mirror.wait()
        if sshd:
            sshd.stop()
        cluster.stop()
