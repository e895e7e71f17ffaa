"""The publication as four processes, each with only its own configuration, as the units run
them: build-spool (database) → sign-spool (key) → push-outbox (neither) → record-deliveries.

The signer and the pusher are started with an environment and a configuration that name no
database and no key they must not have — and they refuse to start when given one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit import services as audit_services
from intranet.audit.models import AuditRecord
from intranet.publications.models import Delivery, Publication
from lab.intranet_ini import INI
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import approved_request
from transfer import spool
from transfer.checkpoints import read_file
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.verify import Origin, TrustPolicy, verify_snapshot

BIN = Path(sys.executable).parent
# What a step started by systemd has: no database URL, no intranet configuration (and the
# source tree under test, where a worktree is tested with the venv of another).
BARE = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "PYTHONWARNINGS": "ignore",
        **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}


class Steps:
    def __init__(self, db_url: str, root: Path):
        self.root = root
        keys = root / "keys"
        keys.mkdir()
        self.signing = generate_signing_key(keys / "sign.key", keys / "sign.key.pub")
        generate_lookup_key(keys / "lookup.key")
        self.spool, self.inbox = root / "spool", root / "inbox"
        spool.prepare(self.spool)
        self.inbox.mkdir()
        self.checkpoints = root / "checkpoints.jsonl"
        self.intranet = root / "intranet.ini"
        self.intranet.write_text(INI.format(url=db_url.replace("%", "%%")).replace(
            "sqlalchemy.url", "\n".join([
                "transfer.origin = 142158:prod",
                f"transfer.lookup_key = {keys / 'lookup.key'}",
                f"transfer.spool_dir = {self.spool}",
                f"transfer.destinations = outbox:{self.inbox}",
                f"audit.checkpoint_file = {self.checkpoints}",
                f"audit.checkpoint_keys = {keys / 'sign.key.pub'}",
                "sqlalchemy.url"])))
        self.signer = self.step_ini("signer", **{
            "transfer.signing_keys": keys / "sign.key", "audit.checkpoint_file": self.checkpoints})
        self.pusher = self.step_ini("pusher", **{
            "transfer.public_keys": keys / "sign.key.pub",
            "transfer.destinations": f"outbox:{self.inbox}"})

    def step_ini(self, name, **settings):
        path = self.root / f"{name}.ini"
        values = {"transfer.spool_dir": self.spool, "transfer.origin": "142158:prod", **settings}
        path.write_text("[shinsei-transfer]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
        return path

    def run(self, command, config, env=None):
        return subprocess.run([str(BIN / "shinsei-transfer"), command, "-c", str(config)],
                              capture_output=True, text=True, cwd=self.root, timeout=120,
                              env=env or {**os.environ, "PYTHONWARNINGS": "ignore"})

    def build(self):
        return self.run("build-spool", self.intranet)

    def sign(self):
        return self.run("sign-spool", self.signer, env=BARE)

    def push(self):
        return self.run("push-outbox", self.pusher, env=BARE)

    def record(self):
        return self.run("record-deliveries", self.intranet)


@pytest.fixture
def steps(db_url, tmp_path, session_factory, accounts):
    make_applications(session_factory, make_programme(session_factory), 5)
    return Steps(db_url, tmp_path)


def ok(process):
    assert process.returncode == 0, process.stdout + process.stderr
    return process.stdout


def test_four_processes_publish_one_publication(steps, session_factory):
    publication_id = approved_request(session_factory)
    assert f"publication {publication_id} spooled" in ok(steps.build())
    # The spool holds keyed hashes and wording: no receipt number, name or birth date.
    handed = b"".join((steps.spool / spool.BUILT / name).read_bytes()
                      for name in (spool.MANIFEST, spool.TABLE))
    with session_factory() as dbsession:
        for application in dbsession.execute(select(Application)).scalars():
            for personal in (application.receipt_number_normalised, application.name,
                             application.birth_date and application.birth_date.isoformat()):
                assert not personal or personal.encode() not in handed
    ok(steps.sign())
    assert "delivered" in ok(steps.push())
    ok(steps.record())
    [file] = steps.inbox.iterdir()
    snapshot = verify_snapshot(file.read_bytes(), TrustPolicy([steps.signing.public_key],
                               Origin("142158", "prod")), last_sequence=None, now=None)
    signed = read_file(steps.checkpoints, [steps.signing.public_key])
    assert snapshot.header["audit_checkpoint"] == signed[-1].as_dict()
    with session_factory() as dbsession:
        publication = dbsession.get(Publication, publication_id)
        assert publication.state == "published" and publication.sequence == snapshot.sequence
        assert publication.entries == 5 and publication.sha256
        assert dbsession.execute(select(Delivery.delivered)).scalars().all() == [True]
        actions = dbsession.execute(select(AuditRecord.action).order_by(AuditRecord.seq)
                                    ).scalars().all()
        assert actions[-3:] == ["publication.spooled", "audit.checkpoint", "transfer.delivery"]
        delivery = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "transfer.delivery")).scalar_one()
        assert '"pushed_by"' in delivery.details and publication.content_digest in delivery.details
        assert audit_services.verify(dbsession, signed).ok
    # Run again: nothing approved; the head is still signed, nothing new is pushed.
    assert "nothing approved" in ok(steps.build())
    assert "audit checkpoint signed" in ok(steps.sign())
    assert "nothing new to push" in ok(steps.push())
    assert len(list(steps.inbox.iterdir())) == 1
    assert len(read_file(steps.checkpoints, [steps.signing.public_key])) == 2


def test_the_preparation_as_a_process_keeps_the_table_the_approvals_build_takes(
        steps, session_factory):
    """``shinsei-transfer prepare-spool`` (shinsei-transfer-prepare.service): the waiting
    request's table into the builder's cache, nothing into the spool; the approval's build
    then takes it as it is and the publication goes out as before."""
    from tests.integration.test_prepared_build import approve, requested

    assert "nothing waiting to prepare" in ok(steps.run("prepare-spool", steps.intranet))
    publication_id = requested(session_factory)
    assert f"publication {publication_id} prepared" in ok(steps.run("prepare-spool",
                                                                    steps.intranet))
    kept = steps.spool / spool.BUILT / "cache" / "last-build.bin"
    made = kept.stat().st_mtime_ns
    assert not (steps.spool / spool.BUILT / spool.MANIFEST).exists()     # nothing spooled
    approve(session_factory, publication_id)
    ok(steps.build())
    assert kept.stat().st_mtime_ns == made      # taken as it was: a build would keep its own
    ok(steps.sign())
    assert "delivered" in ok(steps.push())
    ok(steps.record())
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "published"


@pytest.mark.parametrize("given", ["sqlalchemy.url", "transfer.signing_keys",
                                   "transfer.lookup_key", "SHINSEI_DATABASE_URL"])
def test_the_pusher_refuses_to_start_with_the_database_or_a_key(steps, session_factory, given):
    approved_request(session_factory)
    ok(steps.build())
    ok(steps.sign())
    env = dict(BARE)
    if given == "SHINSEI_DATABASE_URL":
        env[given] = "postgresql+psycopg:///shinsei"
    else:
        with steps.pusher.open("a") as ini:
            ini.write(f"{given} = {steps.root / 'keys' / 'sign.key'}\n")
    refused = steps.run("push-outbox", steps.pusher, env=env)
    assert refused.returncode == 2 and given in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert list(steps.inbox.iterdir()) == []
    assert not (steps.spool / spool.RESULTS / spool.RESULT).exists()


def test_the_signer_refuses_to_start_with_the_database(steps):
    with steps.signer.open("a") as ini:
        ini.write("sqlalchemy.url = postgresql+psycopg:///shinsei\n")
    refused = steps.sign()
    assert refused.returncode == 2 and "sqlalchemy.url" in refused.stderr


def test_the_builder_refuses_an_ini_naming_the_signing_key(steps):
    text = steps.intranet.read_text()
    steps.intranet.write_text(text.replace(
        "sqlalchemy.url", f"transfer.signing_keys = {steps.root / 'keys' / 'sign.key'}\n"
                          "sqlalchemy.url", 1))
    refused = steps.build()
    assert refused.returncode == 2 and "transfer.signing_keys" in refused.stderr


def test_the_signer_refuses_a_tampered_spool_and_the_publication_fails_with_the_reason(
        steps, session_factory):
    publication_id = approved_request(session_factory)
    ok(steps.build())
    manifest = steps.spool / spool.BUILT / spool.MANIFEST
    fields = json.loads(manifest.read_text())
    fields["entry_count"] += 1                # one entry more than the table holds
    manifest.write_text(json.dumps(fields))
    refused = steps.sign()
    assert refused.returncode == 1 and "署名しません" in refused.stderr
    assert "entry_count" in refused.stderr and "Traceback" not in refused.stderr
    assert list((steps.spool / spool.SIGNED).iterdir()) == []
    assert "nothing new to push" in ok(steps.push())
    ok(steps.record())
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "failed"
        failed = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "transfer.failed")).scalar_one()
        assert "no report from the pusher" in failed.details


# "a stranger": issue 25, a well-formed report naming a host this city does not publish to.
EXPECTED = {"another digest": "another content digest", "not json": "report was refused",
            "claims a count": "report was refused", "a stranger": "not a configured destination"}


@pytest.mark.parametrize("forgery", list(EXPECTED))
def test_a_forged_report_from_the_pusher_is_not_believed(steps, session_factory, forgery):
    publication_id = approved_request(session_factory)
    ok(steps.build())
    ok(steps.sign())
    ok(steps.push())
    report = steps.spool / spool.RESULTS / spool.RESULT
    fields = json.loads(report.read_text())
    if forgery == "another digest":
        fields["content_digest"] = "f" * 64
        report.write_text(json.dumps(fields))
    elif forgery == "not json":
        report.write_bytes(b"\xff{")
    elif forgery == "a stranger":
        fields["deliveries"].append({**fields["deliveries"][0],
                                     "destination": "sftp://upload@attacker.example:22/inbox"})
        report.write_text(json.dumps(fields))
    else:
        fields["deliveries"][0]["attempts"] = True   # a bool where a number belongs
        report.write_text(json.dumps(fields))
    steps.record()
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "failed"
        assert dbsession.execute(select(Delivery)).scalars().all() == []
        failed = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "transfer.failed")).scalar_one()
        assert EXPECTED[forgery] in failed.details


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/unshare").exists(),
                    reason="needs root and unshare (a network namespace of its own)")
def test_the_builder_and_the_signer_work_without_any_network(steps, session_factory, db_url,
                                                              request):
    """What PrivateNetwork=yes gives their units: a namespace with no interface but a down
    loopback. The database is reached through its Unix socket; no TCP connection can be made."""
    publication_id = approved_request(session_factory)
    if db_url.startswith("postgresql"):     # as deployed: the server's Unix socket
        cluster = request.getfixturevalue("postgres_cluster")
        socket_url = (f"postgresql+psycopg://shinsei@/{db_url.rsplit('/', 1)[1]}"
                      f"?host={cluster.root}&port={cluster.port}")
        steps.intranet.write_text(steps.intranet.read_text().replace(
            db_url.replace("%", "%%"), socket_url.replace("%", "%%")))
    isolated = ["unshare", "--net", "--"]
    probe = subprocess.run([*isolated, sys.executable, "-c",
                            "import socket; socket.create_connection(('127.0.0.1', 22), 2)"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "Network is unreachable" in probe.stderr, probe.stderr
    for command, config, env in (("build-spool", steps.intranet, None),
                                 ("sign-spool", steps.signer, BARE)):
        done = subprocess.run([*isolated, str(BIN / "shinsei-transfer"), command, "-c",
                               str(config)], capture_output=True, text=True, cwd=steps.root,
                              env=env or {**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    ok(steps.push())
    ok(steps.record())
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "published"
