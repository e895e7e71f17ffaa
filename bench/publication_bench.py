"""Approval → visible: from a supervisor approving a publication to a resident's lookup
answering the new status on the public host, for 1,000,000 applications, over real SFTP.

Every step is the shipped code: the transfer job's steps (take the approved request, read
the rows, build, sign, push to a real sshd with SftpDestination, record), the public host's
receiver (verify, activate) and its JSON lookup answering the changed application. Each
step is timed; beside them, two baselines measured in the same run: the bare SELECT of the
five columns (what the build cannot avoid reading) and OpenSSH's `sftp` pushing the same
file. Target (issue 16, item 3): < 60 s end to end. Needs root (the test sshd chroots).

    .venv/bin/python bench/publication_bench.py [--applications 1000000] [--repeat 3]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transaction
from sqlalchemy import select, text, update

from bench.intranet_bench import ACTOR, PASSWORD, seed
from bench.transfer_bench import openssh_put
from intranet import migrations
from intranet.applications.models import Application
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.publications import build as publication_build
from intranet.publications import builder, job, services, signer
from intranet.publications.models import Publication
from intranet.users.services import add_user, find_user
from tests.databases import PostgresCluster, postgres_bindir
from tests.mirror_fixtures import PublicHost
from tests.sshd import UPLOAD_USER, Sshd
from transfer import push
from transfer.sftp import SftpDestination
from transfer.transports import Delivery
from transfer.verify import Origin

STEPS = ["approve", "take approved + audit checkpoint", "reproduce content digest",
         "read frozen rows", "hash + sort (make_body)", "sign", "push (SFTP)", "record",
         "receive: verify + activate", "first lookup"]


class Clock:
    def __init__(self):
        self.times = {}

    @contextmanager
    def step(self, name):
        started = time.perf_counter()
        yield
        self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - started


CLOCK = Clock()


def wrap(module, name, clock, step):
    original = getattr(module, name)

    def timed(*args, **kw):
        with clock.step(step):
            return original(*args, **kw)

    setattr(module, name, timed)
    return original


def instrument(clock):
    """Time job.publish's steps by wrapping the functions they call (the code is the job's:
    builder → signer → pusher → recorder, in one process here)."""
    wrap(builder, "_take_approved", clock, "take approved + audit checkpoint")
    wrap(builder, "_audit_head", clock, "take approved + audit checkpoint")
    wrap(publication_build.content, "digest", clock, "reproduce content digest")
    wrap(signer, "sign_body", clock, "sign")
    wrap(push, "deliver_all", clock, "push (SFTP)")
    wrap(job, "record_results", clock, "record")
    make_body = publication_build.make_body

    def timed_make_body(rows, *args, **kw):
        with clock.step("read frozen rows"):
            rows = list(rows)
        with clock.step("hash + sort (make_body)"):
            return make_body(rows, *args, **kw)

    publication_build.make_body = timed_make_body


def change_and_request(session_factory, receipt, status):
    """A status change to look for afterwards, and a publication request by staff (which
    freezes the rows and wording to be published)."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        dbsession.execute(update(Application).where(
            Application.receipt_number_normalised == receipt).values(status_code=status))
        staff = find_user(dbsession, "requester")
        publication = services.request_publication(dbsession, ACTOR, staff, "bench", True)
        return publication.id, publication.content_digest


def approve(session_factory, publication_id, digest):
    """The supervisor's approving click (four eyes: not the requester)."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        supervisor = find_user(dbsession, "supervisor")
        publication = dbsession.get(Publication, publication_id)
        services.decide(dbsession, ACTOR, supervisor, publication, True, True, digest)


def lookup(app, programme, receipt):
    reply = app.post("/api/v1/lookup", json.dumps({"programme": programme,
                                                   "receipt_number": receipt}),
                     content_type="application/json", status="*")
    return reply.json.get("status")


def one_round(session_factory, plan, host, app, programme, receipt, status):
    clock = CLOCK
    clock.times = {}
    started = time.perf_counter()
    publication_id, digest = change_and_request(session_factory, receipt, status)
    freeze_s = time.perf_counter() - started
    started = time.perf_counter()
    with clock.step("approve"):
        approve(session_factory, publication_id, digest)
    outbox = RecordingOutbox()
    plan.destinations.append(outbox)
    try:
        _ids, deliveries = job.publish(session_factory, plan)
    finally:
        plan.destinations.remove(outbox)
    assert deliveries and all(d.delivered for d in deliveries), deliveries
    with clock.step("receive: verify + activate"):
        outcomes = host.receive()
    assert outcomes, "nothing received"
    with clock.step("first lookup"):
        answered = lookup(app, programme, receipt)
    clock.times["total"] = time.perf_counter() - started
    clock.times["request (freezes the rows; before the approval)"] = freeze_s
    assert answered == status, (answered, status)
    return clock.times, outbox.data


class RecordingOutbox:
    """Keeps the signed bytes in memory for the baselines (the push itself is SFTP's)."""

    name = "memory"

    def deliver(self, filename, data):
        self.data = data
        return Delivery(self.name, True)


def baselines(engine, sshd, known, data, root):
    started = time.perf_counter()
    with engine.connect() as connection:
        rows = connection.execute(select(
            Application.programme_id, Application.receipt_number_normalised,
            Application.birth_date, Application.status_code, Application.scheduled_payment_on,
            Application.paid_on)).all()
    select_s = time.perf_counter() - started
    del rows
    path = root / "snapshot.bin"
    path.write_bytes(data)
    started = time.perf_counter()
    openssh_put(sshd, known, path, "baseline.bin")
    return select_s, time.perf_counter() - started


def main(args):
    cluster = PostgresCluster(postgres_bindir()).start()
    sshd = Sshd().start()
    try:
        cluster.admin("CREATE DATABASE bench")
        engine = get_engine({"sqlalchemy.url": cluster.url("bench")})
        session_factory = get_session_factory(engine)
        migrations.initialise(engine, session_factory, ACTOR)
        _programme_id, seconds = seed(engine, session_factory, args.applications)
        print(f"loaded {args.applications:,} applications in {seconds:.0f} s")
        with transaction.manager:
            add_user(get_tm_session(session_factory, transaction.manager), ACTOR, "requester",
                     "bench", "staff", PASSWORD)
        with engine.connect() as connection:
            programme = connection.execute(text("SELECT code FROM programmes")).scalar_one()
            receipt = connection.execute(text(
                "SELECT receipt_number_normalised FROM applications WHERE id = 1")).scalar_one()
        with tempfile.TemporaryDirectory() as root:
            root = Path(root)
            (root / "public").mkdir()
            host = PublicHost(root / "public")
            host.settings["mirror.inbox"] = str(sshd.inbox)
            known = sshd.known_hosts(root / "known_hosts")
            destination = SftpDestination("127.0.0.1", sshd.port, UPLOAD_USER, sshd.client_key,
                                          known, "/inbox", timeout=60, retries=0)
            plan = job.PublishPlan([host.signing_key], host.secret, Origin("142158", "prod"),
                                   [destination], timedelta(hours=72), ACTOR)
            instrument(CLOCK)
            app = host.app()
            rounds = []
            for n in range(args.repeat):
                status = ("payment_scheduled", "received")[n % 2]
                times, data = one_round(session_factory, plan, host, app, programme,
                                        receipt, status)
                rounds.append(times)
            select_s, openssh_s = baselines(engine, sshd, known, data, root)
        report(args, rounds, data, select_s, openssh_s)
    finally:
        sshd.stop()
        cluster.stop()


def report(args, rounds, data, select_s, openssh_s):
    print(f"approval → visible, {args.applications:,} applications "
          f"({len(data) / 1e6:.1f} MB snapshot); median of {args.repeat}; load average "
          f"{os.getloadavg()[0]:.1f}; {os.cpu_count()} cores")
    for name in ["request (freezes the rows; before the approval)", *STEPS, "total"]:
        median = statistics.median(r.get(name, 0.0) for r in rounds)
        print(f"  {name:48s} {median:7.2f} s")
    print(f"baselines in the same run: bare SELECT of the five columns {select_s:.2f} s; "
          f"OpenSSH sftp of the same file {openssh_s:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    main(parser.parse_args())
