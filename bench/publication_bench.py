"""Approval → visible: from a supervisor approving a publication to a resident's lookup
answering the new status on the public host, for 1,000,000 applications, over real SFTP.

Every step is the shipped code, run as deployed: the four step commands of the
privilege-separated publication (``shinsei-transfer build-spool`` → ``sign-spool`` →
``push-outbox`` → ``record-deliveries``, intranet.publications.steps), each from its own ini
(the builder and recorder the intranet's, the signer and pusher their own), pushing to a
real sshd with the SFTP destination; then the public host's receiver (verify, activate)
and its JSON lookup answering the changed application. The step functions are called in
this process (timed inside, to show where the time goes; the collector set as each command
sets it, ``as_a_command``); what starting each as its own process adds — the interpreter
and that step's imports — is measured on its own and added.

One run publishes nine times: a full build (a fresh spool holds no builder cache: what
every build was before the cache), one change per publication (``--repeat`` times: the
builder starts from its last table, intranet.publications.incremental), then 1 % of the
applications changed — with the cache, and with it removed (a full build of the same
change) — each approved before its preparation (below) had run. Then one change per
publication again (``--repeat`` times) as deployed when the approver comes after it: the
request's touch starts ``shinsei-transfer prepare-spool`` (shinsei-transfer-requested.path;
timed, not counted, as the request is not), which makes the waiting request's table
(``builder.prepare_waiting``), and the approval's build reads no frozen row.
Baselines in the same run: the bare SELECT of the frozen rows' six columns (what
reproducing the digest cannot avoid reading) and OpenSSH's ``sftp`` pushing the same file.
Targets (issue 30, item 3): < 5 s as deployed; 1 % changed costs about 1 % of a full
build beyond reading the frozen rows. Needs root (the test sshd chroots).

The applications are generated inside PostgreSQL once and the stopped cluster's data
directory is kept under build/bench/cache, per code (bench.publication_seed); later runs
of the same code copy it.

    .venv/bin/python bench/publication_bench.py [--applications 1000000] [--repeat 3]
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transaction
from sqlalchemy import select, text, update

from bench.harness import Verdicts, sized
from bench.intranet_bench import ACTOR
from bench.publication_seed import PROGRAMME_CODE, CachedCluster, seeded_data
from bench.transfer_bench import openssh_put
from intranet.applications.models import Application
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.publications import build, builder, content, incremental, recorder, services
from intranet.publications import steps as database_steps
from intranet.publications.models import Publication, PublicationRow
from intranet.users.services import find_user
from lab.intranet_ini import INI
from lab.mirror_fixtures import PublicHost
from lab.sshd import UPLOAD_USER, Sshd
from transfer import build_cache, collector, push, signer, spool, steps

# The four step commands, in order (the functions `shinsei-transfer <command>` runs).
COMMANDS = [("build-spool", "build_spool"), ("sign-spool", "sign_spool"),
            ("push-outbox", "push_outbox"), ("record-deliveries", "record_deliveries")]
# (label, module, function): where a step command spends its time. The same function may
# serve two steps (the recorder runs at the start of build-spool too): each is timed
# under the step that called it.
PARTS = [
    ("settle the pusher's report", recorder, "record_results"),
    ("take approved", builder, "_take_approved"),
    ("read the frozen rows + reproduce their digest", content, "read_frozen"),
    ("load the builder's cache", build_cache, "load"),
    ("difference from the last build (database)", incremental, "difference"),
    ("rebuild the last build's digest (the check)", incremental, "_base_digest"),
    ("edit the last table", incremental, "edit_body"),
    ("keep the table for the next build", build_cache, "save"),
    ("write the spool", spool, "write_built"),
    ("audit head", builder, "_audit_head"),
    ("read + check the spool", spool, "read_built"),
    ("sign", signer, "sign_body"),
    ("verify as a public host would", signer, "verify_snapshot"),
    ("SFTP", push, "deliver_all"),
    ("remember what residents see", recorder, "_remember_published"),
]
# What each step command imports before it runs (intranet.publications.steps, transfer.steps).
IMPORTS = {
    "build-spool": "intranet.ini, intranet.db, intranet.publications.builder, "
                   "intranet.publications.job, intranet.publications.recorder",
    "sign-spool": "transfer.signer, transfer.spool, transfer.step_config, transfer.config",
    # transfer.sftp (paramiko): imported when the pusher reads its sftp:// destinations.
    "push-outbox": "transfer.step_config, transfer.config, transfer.push, transfer.transports, "
                   "transfer.sftp",
    "record-deliveries": "intranet.ini, intranet.db, intranet.publications.job, "
                         "intranet.publications.recorder",
}


class Clock:
    """Seconds per step, and per part within the step that is running."""

    def __init__(self):
        self.times: dict[str, float] = {}
        self.current = ""

    @contextmanager
    def step(self, name):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - started

    def part(self, label):
        return self.step(f"{self.current}: {label}")

    def wrap(self, module, name, label):
        original = getattr(module, name)

        def timed(*args, **kw):
            with self.part(label):
                return original(*args, **kw)

        setattr(module, name, timed)

    def run(self, command, function, config):
        self.current = command
        with as_a_command(), self.step(command):
            module = steps if hasattr(steps, function) else database_steps
            return getattr(module, function)(SimpleNamespace(config=config))


@contextmanager
def as_a_command():
    """The collector as a step command's own process sets it (``shinsei-transfer`` calls
    transfer.collector.for_bulk_work): what this process holds until the step frozen out of
    every walk, as a command's start is, and young objects walked after 10,000. Python's
    settings again after the step: the request, the receiver and the lookup are not step
    commands. (With Python's settings a step's collector walked this whole process: the
    recorder spent 1.4-1.6 s in it, 0.5-0.8 s as a command.)"""
    threshold = gc.get_threshold()
    collector.for_bulk_work()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


CLOCK = Clock()
REQUEST = "request (freezes the rows; before the approval)"
PREPARE = "prepare-spool: the request's table (before the approval)"
TOTAL = "total, approval → visible, in one process"
DEPLOYED = "TOTAL, approval → visible, as deployed"
READ = "build-spool: read the frozen rows + reproduce their digest"
BASELINE = "baseline"
COPIED_MB: list[float] = []      # what each round's COPY baseline read


def instrument():
    """Time the big parts of each step command by wrapping the functions they call."""
    for label, module, name in PARTS:
        CLOCK.wrap(module, name, label)
    make_body = build.make_body

    def timed_make_body(rows, *args, **kw):
        with CLOCK.part("programme tally (residents' progress figures)"):
            rows = list(rows)
        with CLOCK.part("hash + sort (make_body)"):
            return make_body(rows, *args, **kw)

    build.make_body = timed_make_body


def change_and_request(session_factory, receipt, status, share_slot=None):
    """A status change to look for afterwards, and a publication request by staff (which
    freezes the rows and wording to be published). ``share_slot``: 1 % of the applications
    too (those whose id is that slot modulo 100) take the same status."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        dbsession.execute(update(Application).where(
            Application.receipt_number_normalised == receipt).values(status_code=status))
        if share_slot is not None:
            dbsession.execute(update(Application).where(Application.id % 100 == share_slot)
                              .values(status_code=status))
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


def lookup(app, receipt):
    reply = app.post("/api/v1/lookup", json.dumps({"programme": PROGRAMME_CODE,
                                                   "receipt_number": receipt}),
                     content_type="application/json", status="*")
    return reply.json.get("status")


@dataclass(frozen=True)
class Round:
    """One publication: what changed, and whether the builder starts without its cache."""

    kind: str
    share_slot: int | None = None
    without_cache: bool = False
    # The request's preparation (prepare-spool) ran before the approval.
    prepared: bool = False


def rounds_to_run(repeat):
    """The full build first (a fresh spool holds no cache: every build before this branch),
    then one change per publication, then 1 % changed — with the cache and without."""
    return ([Round(FULL)] + [Round(ONE)] * repeat
            + [Round(SHARE, share_slot=11), Round(SHARE_FULL, share_slot=12, without_cache=True)]
            + [Round(PREPARED, prepared=True)] * repeat)


FULL, ONE = "full build (no cache)", "one change"
PREPARED = "one change, prepared"
SHARE, SHARE_FULL = "1 % changed", "1 % changed, full build"


def first_answer(app, receipt, status, patience=60.0):
    """The lookup, asked until it answers the new status: a large new file is loaded by a
    thread of its own while the one before still answers (public_mirror.store)."""
    given_up = time.perf_counter() + patience
    while (answered := lookup(app, receipt)) != status and time.perf_counter() < given_up:
        time.sleep(0.005)
    return answered


def one_round(session_factory, configs, host, app, receipt, status, plan: Round, spool_dir):
    CLOCK.times = {}
    if plan.without_cache:
        build_cache.forget(spool_dir / spool.BUILT)
    started = time.perf_counter()
    publication_id, digest = change_and_request(session_factory, receipt, status, plan.share_slot)
    # Only the request's own time: the digest it computes is not the builder's.
    CLOCK.times = {REQUEST: time.perf_counter() - started}
    configs = dict(zip((command for command, _ in COMMANDS), configs, strict=True))
    if plan.prepared:
        before = dict(CLOCK.times)
        code = CLOCK.run("prepare-spool", "prepare_spool", configs["build-spool"])
        assert code == 0, f"prepare-spool answered {code}"
        CLOCK.times = {**before, PREPARE: CLOCK.times["prepare-spool"]}
    bare_select(session_factory, publication_id)
    started = time.perf_counter()
    with CLOCK.step("approve"):
        approve(session_factory, publication_id, digest)
    # Deployed, the public host's path unit starts its receiver when the file lands, while
    # the intranet's recorder runs: the resident sees the status before it is recorded.
    for command, function in COMMANDS[:3]:
        code = CLOCK.run(command, function, configs[command])
        assert code == 0, f"{command} answered {code}"
    with CLOCK.step("receive: verify + activate"):
        outcomes = host.receive()
    assert outcomes, "nothing received"
    with CLOCK.step("first lookup"):
        answered = first_answer(app, receipt, status)
    CLOCK.times[TOTAL] = time.perf_counter() - started
    command, function = COMMANDS[3]
    code = CLOCK.run(command, function, configs[command])
    assert code == 0, f"{command} answered {code}"
    assert answered == status, (answered, status, outcomes)
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "published"
    return dict(CLOCK.times)


def write_configs(root: Path, url: str, host: PublicHost, sshd: Sshd, known: Path):
    """The four steps' ini files, as the installer writes them (each only its own)."""
    keys = host.root / "keys"
    spool_dir = root / "spool"
    spool.prepare(spool_dir)
    checkpoints = root / "checkpoints.jsonl"
    checkpoints.touch()      # the installer makes it empty (its absence is logged as an error)
    destination = f"sftp://{UPLOAD_USER}@127.0.0.1:{sshd.port}/inbox"
    intranet = root / "intranet.ini"
    intranet.write_text(INI.format(url=url.replace("%", "%%")).replace(
        "sqlalchemy.url", "\n".join([
            "transfer.origin = 142158:prod",
            # The recorder believes the pusher's report only about these (their names).
            f"transfer.destinations = {destination}",
            f"transfer.lookup_key = {keys / 'lookup.key'}",
            f"transfer.spool_dir = {spool_dir}",
            f"audit.checkpoint_file = {checkpoints}",
            f"audit.checkpoint_keys = {keys / 'sign.key.pub'}",
            "sqlalchemy.url"]), 1))

    def step_ini(name, **settings):
        path = root / f"{name}.ini"
        values = {"transfer.spool_dir": spool_dir, "transfer.origin": "142158:prod", **settings}
        path.write_text("[shinsei-transfer]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
        return path

    signer_ini = step_ini("signer", **{"transfer.signing_keys": keys / "sign.key",
                                       "audit.checkpoint_file": checkpoints})
    pusher_ini = step_ini("pusher", **{
        "transfer.public_keys": keys / "sign.key.pub",
        "transfer.destinations": destination,
        "transfer.known_hosts": known, "transfer.client_key": sshd.client_key})
    return [str(intranet), signer_ini, pusher_ini, str(intranet)]


def start_up_costs() -> dict[str, float]:
    """Per step command: a fresh interpreter importing what that step imports (median of 3)."""
    costs = {}
    for command, modules in IMPORTS.items():
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import transfer.cli, {modules}"],
                           check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
            samples.append(time.perf_counter() - started)
        costs[command] = statistics.median(samples)
    return costs


def bare_select(session_factory, publication_id):
    """Baselines: the frozen rows' six columns in digest order, read and nothing else — by
    COPY (the floor of getting them out of PostgreSQL) and as SQLAlchemy result rows."""
    columns = ("programme_code, receipt, birth_date, status_code, scheduled_payment_on, "
               "paid_on")
    with session_factory() as dbsession:
        driver = dbsession.connection().connection.driver_connection
        started = time.perf_counter()
        size = 0
        with driver.cursor() as cursor, cursor.copy(
                f"COPY (SELECT {columns} FROM publication_rows "  # noqa: S608 (an int)
                f"WHERE publication_id = {int(publication_id)} "
                "ORDER BY programme_code, receipt) TO STDOUT") as copy:
            for block in copy:
                size += len(block)
        # One name in every round (a round's size in MB would make another name, and the
        # one-change rounds' median of a name they never had: 0.00 s).
        CLOCK.times[f"{BASELINE}: COPY of the frozen rows' six columns"] = \
            time.perf_counter() - started
        COPIED_MB.append(size / 1e6)
        started = time.perf_counter()
        rows = dbsession.execute(select(
            PublicationRow.programme_code, PublicationRow.receipt, PublicationRow.birth_date,
            PublicationRow.status_code, PublicationRow.scheduled_payment_on,
            PublicationRow.paid_on).where(PublicationRow.publication_id == publication_id)
            .order_by(PublicationRow.programme_code, PublicationRow.receipt)).all()
        CLOCK.times[f"{BASELINE}: the same {len(rows):,} rows as SQLAlchemy rows"] = \
            time.perf_counter() - started


def openssh_baseline(sshd, known, data, root):
    path = root / "snapshot.bin"
    path.write_bytes(data)
    started = time.perf_counter()
    openssh_put(sshd, known, path, "baseline.bin")
    return time.perf_counter() - started


def main(args):
    data_dir = seeded_data(args.applications)
    cluster = CachedCluster(data_dir).start()
    sshd = Sshd().start()
    try:
        url = cluster.url("bench")
        engine = get_engine({"sqlalchemy.url": url})
        session_factory = get_session_factory(engine)
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM applications")).scalar_one()
            receipt = connection.execute(text(
                "SELECT receipt_number_normalised FROM applications WHERE id = 1")).scalar_one()
        print(f"{count:,} applications (cached data directory {data_dir})")
        with tempfile.TemporaryDirectory() as root:
            root = Path(root)
            (root / "public").mkdir()
            host = PublicHost(root / "public")
            host.settings["mirror.inbox"] = str(sshd.inbox)
            known = sshd.known_hosts(root / "known_hosts")
            configs = write_configs(root, url, host, sshd, known)
            instrument()
            app = host.app()
            rounds = []
            for n, plan in enumerate(rounds_to_run(args.repeat)):
                status = ("payment_scheduled", "received")[n % 2]
                rounds.append((plan.kind, one_round(session_factory, configs, host, app,
                                                    receipt, status, plan, root / "spool")))
            [signed] = (root / "spool" / spool.SIGNED).glob("snapshot-*.bin")
            data = signed.read_bytes()
            openssh_s = openssh_baseline(sshd, known, data, root)
        report(args, count, rounds, data, start_up_costs(), openssh_s)
    finally:
        sshd.stop()
        cluster.stop()


def report(args, count, rounds, data, start_up, openssh_s):
    print(f"approval → visible, {count:,} applications ({len(data) / 1e6:.1f} MB snapshot); "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average "
          f"{os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    kinds = [FULL, ONE, SHARE, SHARE_FULL, PREPARED]
    starting = sum(start_up[command] for command, _ in COMMANDS[:3])
    for _kind, times in rounds:
        times[DEPLOYED] = times[TOTAL] + starting

    def median(kind, name):
        found = [times.get(name, 0.0) for k, times in rounds if k == kind]
        return statistics.median(found) if found else 0.0

    print(f"  {'seconds; one change: median of ' + str(args.repeat):58s}"
          + "".join(f"{kind:>24s}" for kind in kinds))

    def line(name, label=None):
        print(f"  {(label or name)[:58]:58s}"
              + "".join(f"{median(kind, name):24.2f}" for kind in kinds))

    names = []
    for _kind, times in rounds:
        names += [name for name in times if name not in names]
    line(REQUEST)
    line(PREPARE)
    line("approve")

    def step(command):
        line(command)
        for name in names:
            if name.startswith(f"{command}: "):
                line(name, "  " + name[len(command) + 2:])

    for command, _ in COMMANDS[:3]:
        step(command)
    line("receive: verify + activate")
    line("first lookup", "first lookup answering the new status (loaded beside)")
    line(TOTAL)
    print(f"  + three step processes starting (interpreter + imports): {starting:.2f} s ("
          f"{', '.join(f'{k} {v:.2f}' for k, v in start_up.items())})")
    line(DEPLOYED)
    print("  off the resident's path (runs while the public host activates):")
    step(COMMANDS[3][0])
    print("baselines in the same run:")
    for name in names:
        if name.startswith(BASELINE):
            shown = name[len(BASELINE) + 2:] + (
                f" ({statistics.median(COPIED_MB):.0f} MB)" if "COPY" in name else "")
            print(f"  {shown:58s} {median(ONE, name):7.2f} s")
    print(f"  {'OpenSSH sftp of the same file':58s} {openssh_s:7.2f} s")
    found = Verdicts("bench-publication")
    copy = next(median(ONE, name) for name in names if name.startswith(f"{BASELINE}: COPY"))
    floor = (f"COPY of the frozen rows {copy:.2f} s + OpenSSH sftp of the file {openssh_s:.2f} s",
             copy + openssh_s)
    prepared = median(PREPARED, DEPLOYED)
    found.add(f"approval → visible as deployed, {count:,} applications (one change, its table "
              "made when it was requested)", prepared, "s", *floor, "< 5 s", prepared < 5)
    deployed = median(ONE, DEPLOYED)
    found.add(f"approval → visible as deployed, {count:,} applications (one change, approved "
              f"before its preparation ended; a full build {median(FULL, DEPLOYED):.2f} s)",
              deployed, "s", *floor, "< 5 s", deployed < 5)
    beyond = {kind: median(kind, "build-spool") - median(kind, READ) for kind in kinds}
    share = beyond[SHARE] / beyond[SHARE_FULL] * 100
    found.add("1 % changed: build-spool beyond reading the frozen rows, as a share of a full "
              f"build's ({beyond[SHARE]:.2f} s of {beyond[SHARE_FULL]:.2f} s)", share, "%",
              f"the full build's {beyond[SHARE_FULL]:.2f} s", 100.0, "≈ 1 % (≤ 2 %)", share <= 2)
    found.finish()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=sized(1_000_000, 5_000))
    parser.add_argument("--repeat", type=int, default=sized(3, 1))
    main(parser.parse_args())
