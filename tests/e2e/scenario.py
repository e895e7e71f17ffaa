"""The city the booted-hosts steps share: three hosts installed from the release bundle as the
guide says, the first day's accounts, and a first publication through four eyes.

`test_booted_hosts.py` (day one) and `test_runbook.py` (the days after) each open a city of
their own (`open_city`) and bring it to where their steps begin.
"""

import contextlib

import pytest

from lab.import_files import encoded
from tests.e2e import city as guide
from tests.e2e import documented
from tests.e2e.conftest import BALANCER, INTRANET, PUBLIC, build_lab
from tests.e2e.people import PASSWORD, StaffDesk, chromium, healthz
from tests.e2e.tls import LabCA

PROGRAMME, PROGRAMME_NAME = "k2026", "物価高騰対策給付金"
# The first-day checklist: the operator adds the administrator (kanri) and the security
# officer (kansa) with the guide's commands; the administrator adds everyone else on the
# screen (the first half of each one-time password); the security officer, a second person,
# approves each account (the second half).
SCREEN_ACCOUNTS = {"tanaka": "staff", "sato": "supervisor", "suzuki": "supervisor"}
ACTIVE_SNAPSHOT = "/var/lib/shinsei-mirror/state/active.snapshot"
INBOX = "/srv/shinsei/inbox"
SITE, STAFF_SITE = f"https://{guide.PUBLIC_NAME}", f"https://{guide.INTRANET_NAME}"


class City:
    """The lab, its CA, the bundle, and what the steps have shown so far."""

    def __init__(self, lab, ca, installation):
        self.lab, self.ca, self.installation = lab, ca, installation
        self.passed: set[int] = set()
        self.first_snapshot = b""
        # What a runbook step keeps for a later one, as the city would: the name of the backup
        # set taken before a disposal, and the disposal record (file name, bytes) the screen saved.
        self.set_before_disposal = ""
        self.disposal_record: tuple[str, bytes] = ("", b"")

    def needs(self, *steps):
        missing = [s for s in steps if s not in self.passed]
        if missing:
            pytest.fail(f"step {missing[0]} did not pass; this step builds on it")

    def staff(self):
        return chromium(self.lab.staff, self.ca.browser_home("staff"),
                        {guide.INTRANET_NAME: INTRANET})

    def resident(self, name):
        """A resident whose DNS answer for the site is public host `name` (a load balancer
        sends each resident to one of them)."""
        return chromium(self.lab.resident, self.ca.browser_home("resident"),
                        {guide.PUBLIC_NAME: PUBLIC[name][1]})

    def resident_through_balancer(self):
        """A resident whose DNS answer for the site is the balancer (install guide §9)."""
        return chromium(self.lab.resident, self.ca.browser_home("resident"),
                        {guide.PUBLIC_NAME: BALANCER})

    def sequence(self, name):
        return healthz(self.lab.resident, guide.PUBLIC_NAME, PUBLIC[name][1], self.ca.path).get("sequence")

    def run_transfer_job(self):
        """The job as its timer starts it, with the guide's command to publish now; returned
        once no run is left to come. A run already going when the approval landed (a timer's:
        06:00 daily, 10:00 on weekdays, the hosts' clock) is joined by the command, and the
        run that publishes the approval follows it by itself (shinsei-transfer-approved.path)."""
        job = documented.run(self.lab.intranet, "install", "publish-now", check=False)
        guide.wait_for("no publication run under way or to come", lambda: transfer_settled(
            self.lab.intranet), timeout=300)
        return job

    def wait_for_sequence(self, names, sequence_above):
        for name in names:
            try:
                guide.wait_for(f"{name} activates a snapshot newer than {sequence_above}",
                               lambda name=name: (self.sequence(name) or 0) > sequence_above,
                               timeout=120)
            except AssertionError as error:
                raise AssertionError(f"{error}\n{self.receiver_state(name)}") from None
        return {name: self.sequence(name) for name in names}

    def receiver_state(self, name):
        """What the public host shows about its inbox and receiver, for a failure message."""
        host = self.lab.public[list(PUBLIC).index(name)]
        return "\n".join([
            host.run("ls", "-la", INBOX, check=False).stdout,
            host.run("systemctl", "status", "--no-pager", "shinsei-mirror-receive.path",
                     "shinsei-mirror-receive.service", check=False).stdout,
            host.run("journalctl", "-b", "--no-pager", "-n", "40", "-u", "shinsei-mirror-receive.service",
                     "-u", "shinsei-mirror-receive.path", "-u", "shinsei-mirror-web.service",
                     check=False).stdout])



@contextlib.contextmanager
def open_city(workdir):
    """Three booted hosts (nothing installed yet), the lab's CA, the bundle."""
    bundle = guide.bundle()
    lab = build_lab(workdir / "lab")
    try:
        for host in (lab.intranet, *lab.public):
            host.boot()
        ca = LabCA(workdir / "ca")
        yield City(lab, ca, guide.Installation(bundle, ca))
    finally:
        lab.close()


def install_every_host(city, older=False):
    """The guide's §1–§7 on the three hosts, and the first day's accounts (``older``: as the
    older bundle an upgrade starts from makes them, before accounts took two people)."""
    lab, install = city.lab, city.installation
    # No host has a way out: the installer can only use what the bundle carries.
    for host in (lab.intranet, *lab.public):
        assert host.run("ip", "route", "show", "default").stdout.strip() == ""
    install.intranet(lab.intranet)
    for name, host in zip(PUBLIC, lab.public, strict=True):
        install.public(host, lab.intranet, name)
    install.introduce(lab.intranet, lab.public)
    for host in (lab.intranet, *lab.public):
        assert guide.failed_units(host) == "", f"{host.name}: {guide.failed_units(host)}"
        # Running the installer again changes nothing, and --check finds nothing to do.
        role = "intranet" if host is lab.intranet else "public"
        checked = install.check(host, role)
        assert "0 loaded units listed" in checked.stdout, f"{host.name}:\n{checked.stdout}"
    for host in lab.public:
        assert host.run("systemctl", "is-active", "shinsei-mirror-web.service",
                        "shinsei-mirror-receive.path", "nginx.service", "ssh.service").returncode == 0
    assert lab.intranet.run("systemctl", "is-active", "shinsei-intranet-web.service",
                            "shinsei-transfer.timer", "postgresql.service", "nginx.service").returncode == 0
    # The monthly retention run, started now as its timer would: it runs to the end under its
    # unit's limits (MemoryDenyWriteExecute and the rest), with nothing old enough to archive.
    pruned = lab.intranet.run("systemctl", "start", "shinsei-audit-prune.service", check=False)
    assert pruned.returncode == 0, lab.intranet.run(
        "journalctl", "-b", "--no-pager", "-n", "30", "-u", "shinsei-audit-prune.service",
        check=False).stdout
    # §7.1: each account's password typed twice when asked.
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    documented.run(lab.intranet, "install", "first-admin", input=typed)
    documented.run(lab.intranet, "install", "first-security-officer", input=typed)
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        page = desk.sign_in("kanri")
        if older:
            _older_accounts(desk)
            return
        # An administrator holds no role that reads applicant data.
        listed = page.goto("/applications")
        assert listed is not None and listed.status == 403, desk.text()[:500]
        first_halves = {username: desk.add_account(username, username, role)
                        for username, role in SCREEN_ACCOUNTS.items()}
        # The administrator alone reaches no one's account: not with the half they were
        # shown, and not by approving their own requests.
        for username, first in first_halves.items():
            assert "正しくありません" in desk.sign_in_refused(username, first)
        desk.sign_in("kanri")
        halves, refused = desk.approve_requests()
        assert halves == {} and "別の管理者かセキュリティ担当が承認してください" in refused, refused
        desk.sign_in("kansa")
        second_halves, refused = desk.approve_requests()
        assert refused == "" and set(second_halves) == set(first_halves), (second_halves, refused)
        for username, first in first_halves.items():
            desk.first_sign_in(username, first + second_halves[username])


def _older_accounts(desk):
    """The older bundle's first day: the administrator's one-time password opens the account,
    and the security officer approves the supervisor grants."""
    handed_over = {username: desk.add_account(username, username, role)
                   for username, role in SCREEN_ACCOUNTS.items()}
    approved, refused = desk.approve_role_grants()
    assert approved == 0 and "別の管理者かセキュリティ担当が承認してください" in refused, refused
    desk.sign_in("kansa")
    assert desk.approve_role_grants() == (2, "")
    for username, one_time in handed_over.items():
        desk.first_sign_in(username, one_time)


def first_publication(city, tmp_path):
    """A programme, an import, a change, and its publication through four eyes on both hosts."""
    source = tmp_path / "applicants.csv"
    source.write_bytes(encoded())          # CP932, as the city's old system exports it
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("sato")
        desk.add_programme(PROGRAMME, PROGRAMME_NAME, "Price relief payment")
        desk.sign_in("tanaka")
        desk.import_csv(PROGRAMME_NAME, source)
        desk.change_status("1234-5678", "reviewing", "書類確認を開始")
        desk.sign_in("sato")
        number = desk.request_publication("初回公開")
        # The request's own unit makes its table while it waits (nothing is sent), and the
        # approval's build takes it as it is: the wiring as installed — the staff app's
        # touch, the path unit, the builder's sandbox and its cache. (An older version,
        # the upgrade test's first bundle, shows no request number and has no such unit.)
        if number is not None:
            guide.journal_showing(city.lab.intranet, f"publication {number} prepared",
                                  "shinsei-transfer-prepare.service", timeout=60)
        desk.sign_in("suzuki")
        desk.approve_publication()
        job = city.run_transfer_job()
        assert job.returncode == 0, job.stdout + job.stderr
        if number is not None:
            guide.journal_showing(city.lab.intranet, f"publication {number}: its table was "
                                  "made before", "shinsei-transfer-build.service")
        newest = desk.publications()[0]
        assert newest.count("転送済") == 2, newest
    sequences = city.wait_for_sequence(PUBLIC, 0)
    assert len(set(sequences.values())) == 1, sequences
    city.first_snapshot = city.lab.public[0].read(ACTIVE_SNAPSHOT)
    # §7.5 and §7.6: what the monitoring and the monthly audit check look at.
    for host in city.lab.public:
        status = documented.run(host, "install", "mirror-status").stdout
        assert f"active snapshot: sequence {sequences['public-1']}" in status, status
    verified = documented.run(city.lab.intranet, "install", "audit-verify").stdout
    assert "audit chain OK" in verified, verified


def publish(city, note, requester="tanaka", approver="sato", every_host=True):
    """A publication through four eyes, and the transfer job run as its timer would; the job
    fails (and says so) when a destination did not take it: `every_host=False` expects that."""
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in(requester)
        number = desk.request_publication(note)
        desk.sign_in(approver)
        desk.approve_publication(number)
        job = city.run_transfer_job()
        assert (job.returncode == 0) == every_host, \
            job.stdout + job.stderr + guide.unit_journals(city.lab.intranet)
        # Its own row, by its number: what earlier steps left on the screen (a request a
        # restored set brought back, still waiting with its changed applications) is not it.
        return desk.publication(number)


def staff_reach(city):
    """The HTTP status the staff terminal gets for the sign-in page over HTTPS, or ''."""
    name = guide.INTRANET_NAME
    return city.lab.staff.run("curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w",
                              "%{http_code}", "--cacert", str(city.ca.path), "--resolve",
                              f"{name}:443:{INTRANET}", f"https://{name}/login",
                              check=False).stdout.strip()


def staff_app_state(host):
    """What the operator would look at when the staff app does not answer."""
    commands = (("systemctl", "--failed", "--no-pager"),
                ("journalctl", "-b", "--no-pager", "-n", "40", "-u", "shinsei-intranet-web.service",
                 "-u", "nginx.service"),
                ("nft", "list", "table", "inet", "shinsei"),
                ("curl", "-sk", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}",
                 "http://127.0.0.1:6543/login"))
    return "\n".join(f"$ {' '.join(c)}\n{host.run(*c, check=False).stdout}" for c in commands)


def transfer_settled(host):
    """No publication run going, none queued, and no mark that one more must start."""
    unit = "shinsei-transfer.service"
    queued = host.run("systemctl", "list-jobs", "--no-legend", unit).stdout.strip()
    marked = host.run("test", "-e", "/run/shinsei-publication/again", check=False).returncode == 0
    return guide.unit_idle(host, unit) and not queued and not marked
