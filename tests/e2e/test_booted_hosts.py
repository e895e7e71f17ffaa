"""From the release bundle to three running hosts, offline, as a city installs and runs them.

One intranet host and two public hosts (fan-out, as behind a load balancer), each a Debian 12
booted with systemd (hosts.py), installed with the bundle's installer and nothing else, then
used by staff and residents in Chromium over HTTPS. The steps are issue 11's, in order, one
test each, sharing the hosts: a step that fails names itself, and the steps after it say which
one they needed.
"""

import csv
import io
import json
import re
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lab.clock import clear_of_midnight
from lab.mirror_fixtures import ENCLOSE, RETURN_TO
from tests.e2e import city as guide
from tests.e2e import documented, hardening
from tests.e2e.balancer_drill import (
    CLIENT,
    DETECTION_BOUND,
    PUT_BACK_WAIT,
    Drill,
    Lookups,
    Rotation,
    clock_ahead,
    clock_right,
    restart_web,
)
from tests.e2e.conftest import (
    BALANCER,
    INTRANET,
    LOAD_RESIDENTS,
    PUBLIC,
    RESIDENT,
    RESIDENTS,
    add_balancer,
    add_load_residents,
    add_residents,
)
from tests.e2e.people import READS, StaffDesk, healthz, resident_action, resident_reads
from tests.e2e.scenario import (
    INBOX,
    PROGRAMME,
    PROGRAMME_NAME,
    SITE,
    STAFF_SITE,
    first_publication,
    install_every_host,
    open_city,
    publish,
)
from tests.e2e.security_review import check_review
from tests.e2e.step_access import check_step_access

QUARANTINE = "/var/lib/shinsei-mirror/quarantine"
USAGE_REPORT = "/srv/shinsei/usage/usage-counts.json"   # mirror.ini's mirror.usage_report


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    with open_city(tmp_path_factory.mktemp("city")) as city:
        yield city


def test_1_installed_offline_every_unit_starts(city):
    install_every_host(city)
    city.passed.add(1)


def test_2_staff_publish_through_four_eyes_and_both_public_hosts_activate(city, tmp_path):
    city.needs(1)
    first_publication(city, tmp_path)
    city.passed.add(2)


def test_3_residents_read_the_new_status_in_three_languages(city):
    city.needs(2)
    for name in PUBLIC:
        with city.resident(name) as browser:
            for lang, (label, as_of_words) in READS.items():
                status, as_of, page = resident_reads(browser, SITE, PROGRAMME, "1234-5678", lang)
                assert status == label, f"{name} {lang}: {page[:600]}"
                assert as_of_words in as_of and re.search(r"\d", as_of), f"{name} {lang}: {as_of!r}"
    city.passed.add(3)


def test_4_a_stopped_public_host_fails_alone_and_the_next_run_delivers(city):
    city.needs(2)
    lab = city.lab
    before = city.sequence("public-1")
    down = lab.public[1]
    down.shutdown()
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("tanaka")
        desk.change_status("1234-5678", "inquiring", "他機関へ照会")
        desk.request_publication("照会中へ")
        desk.sign_in("sato")
        desk.approve_publication()
        city.run_transfer_job()
        newest = desk.publications()[0]
    inner_up, inner_down = PUBLIC["public-1"][0], PUBLIC["public-2"][0]
    assert re.search(rf"{re.escape(inner_up)}\S*: 転送済", newest), newest
    # The failed destination says so in words, and what residents see meanwhile.
    assert re.search(rf"{re.escape(inner_down)}\S*:\s+転送できませんでした", newest), newest
    assert "前回届いた内容" in newest, newest
    failed_run = city.wait_for_sequence(["public-1"], before)["public-1"]
    assert city.sequence("public-2") is None  # still down: nothing answers for it
    down.boot()
    guide.wait_for("public-2 answers again, with what it had",
                   lambda: city.sequence("public-2") == before)
    # The next plain run of the transfer service — no new request, no new approval — sends
    # the current publication, the same signed file, to the host that missed it.
    job = city.run_transfer_job()
    assert job.returncode == 0, job.stdout + job.stderr
    caught_up = city.wait_for_sequence(["public-2"], before)["public-2"]
    assert caught_up == failed_run == city.sequence("public-1")
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("sato")
        newest = desk.publications()[0]
    assert re.search(rf"{re.escape(inner_down)}\S*: 再送済", newest), newest
    # Both current: the next run sends nothing (nothing arrives, nothing is refused).
    quarantined = [host.run("ls", "-A", QUARANTINE).stdout for host in lab.public]
    job = city.run_transfer_job()
    assert job.returncode == 0, job.stdout + job.stderr
    assert [host.run("ls", "-A", INBOX).stdout.strip() for host in lab.public] == ["", ""]
    assert [host.run("ls", "-A", QUARANTINE).stdout for host in lab.public] == quarantined
    assert city.sequence("public-2") == caught_up
    assert guide.failed_units(lab.intranet) == ""
    city.passed.add(4)


PROBE = """\
import socket, sys
opened = []
for port in map(int, sys.argv[2:]):
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect((sys.argv[1], port)); opened.append(port)
    except OSError:
        pass
    s.close()
print("OPEN", *opened) if opened else print("none")
"""


def test_5_no_public_host_can_open_a_connection_to_the_intranet_host(city):
    city.needs(1)
    lab = city.lab
    listening = sorted({int(m) for m in re.findall(r":(\d+)\s", lab.intranet.run(
        "ss", "-Htln").stdout)} | {22, 80, 443, 5432, 6543})
    ports = [str(p) for p in listening]
    # The probe works: staff reach the intranet's HTTPS.
    assert lab.staff.run("python3", "-c", PROBE, INTRANET, "443").stdout.strip() == "OPEN 443"
    for host in lab.public:
        assert host.run("python3", "-c", PROBE, INTRANET, *ports).stdout.strip() == "none", host.name
        # Even root on a public host who removes its firewall gets nowhere: the intranet
        # host drops whatever comes from a public host's address.
        host.run("nft", "delete", "table", "inet", "shinsei")
        try:
            assert host.run("python3", "-c", PROBE, INTRANET, *ports).stdout.strip() == "none"
        finally:
            host.run("systemctl", "restart", "shinsei-nftables.service")
    city.passed.add(5)


def test_6_after_a_reboot_everything_is_back_and_an_older_snapshot_is_refused(city):
    city.needs(2)
    lab = city.lab
    live = {name: city.sequence(name) for name in PUBLIC}
    for host in (lab.intranet, *lab.public):
        host.reboot()
    for host in (lab.intranet, *lab.public):
        guide.wait_for(f"{host.name}: every unit back", lambda h=host: guide.failed_units(h) == "" and
                       h.run("systemctl", "is-active", "nginx.service", check=False).returncode == 0)
    for name in PUBLIC:
        guide.wait_for(f"{name}: the page answers", lambda n=name: city.sequence(n) == live[n])
        with city.resident(name) as browser:
            status, _, page = resident_reads(browser, SITE, PROGRAMME, "1234-5678", "ja")
            assert status == "確認中です", f"{name}: {page[:500]}"
    with city.staff() as browser:
        StaffDesk(browser, STAFF_SITE).sign_in("kansa")
    # The first snapshot, offered again through the only way in: the upload account, over
    # SFTP from the intranet host with the transfer job's own key.
    # A file the receiver cannot read (sftp keeps the sender's mode 0600) goes first: it is
    # refused (hidden under a dot-name when it cannot even be copied aside) and does not stop
    # the next one from being received.
    target = lab.public[0]
    lab.intranet.write("/root/unreadable.bin", b"x" * 64, 0o600)
    lab.intranet.write("/root/replayed.bin", city.first_snapshot, 0o640)
    lab.intranet.run("sftp", "-b", "-", "-i", "/etc/shinsei/pusher/id_ed25519", "-o",
                     "UserKnownHostsFile=/etc/shinsei/pusher/known_hosts",
                     f"shinsei-upload@{PUBLIC['public-1'][0]}",
                     input="put /root/unreadable.bin /inbox/.unreadable.part\n"
                           "rename /inbox/.unreadable.part /inbox/unreadable.bin\n"
                           "put /root/replayed.bin /inbox/.replayed.part\n"
                           "rename /inbox/.replayed.part /inbox/replayed.bin\n")
    try:
        guide.wait_for("the replayed snapshot is taken out of the inbox",
                       lambda: target.run("ls", INBOX).stdout.strip() == "")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{target.run('ls', '-la', INBOX).stdout}\n"
                             + target.run("journalctl", "-b", "--no-pager", "-n", "30", "-u",
                                          "shinsei-mirror-receive.service", "-u",
                                          "shinsei-mirror-receive.path", check=False).stdout) from None
    receiver = "shinsei-mirror-receive.service"
    guide.journal_showing(target, "rejected replayed.bin: RollbackRefused", receiver)
    log = guide.journal_showing(target, "rejected unreadable.bin: UnreadableFile", receiver)
    assert "Traceback" not in log, log[-2000:]
    status = target.run("runuser", "-u", "shinsei-mirror", "--", "shinsei-mirror", "status").stdout
    assert "last rejection" in status, status
    assert city.sequence("public-1") == live["public-1"]
    city.passed.add(6)


def test_8_every_shipped_unit_has_its_exposure_in_the_security_review(city):
    city.needs(1)
    check_review(city.lab)



def test_9_each_publication_step_reaches_only_what_it_must(city):
    """Issue 17 on the deployed shape: from inside each step's own unit (and as its bare OS
    user), the pusher reaches neither PostgreSQL nor the signing key nor the builder's spool,
    and the builder and the signer cannot open a TCP connection."""
    city.needs(2)      # the units ran a publication: keys, spool and database all exist
    check_step_access(city.lab.intranet, PUBLIC["public-1"][0], INTRANET)
    assert guide.failed_units(city.lab.intranet) == ""


def test_10_the_hosts_the_installer_touched_are_hardened(city):
    """Issue 23, item 5: TLS as stated (scanned from the resident's and the staff's terminal),
    each security header once, sshd keys-only with no forwarding (the guide's checks on the
    host, and the administrator's desk), and a cloned public host refused until it has keys
    of its own — after which a publication reaches both again."""
    city.needs(2)
    lab, ca = city.lab, city.ca
    for _, outer in PUBLIC.values():
        hardening.check_tls(lab.resident, outer, guide.PUBLIC_NAME)
        # Without the site's name: nothing (the refusing default server), whatever is offered.
        nameless = hardening.scan(lab.resident, outer, None)
        assert nameless == {"probes": dict.fromkeys(nameless["probes"]), "tls12_accepted": []}
        hardening.check_headers_once(lab.resident, ca.path, guide.PUBLIC_NAME, outer, {
            "/": 200, "/static/mirror.css": 200, "/static/missing.css": 404, "/no-such": 404,
            "/healthz": 200, f"http://{guide.PUBLIC_NAME}/": 301})
    hardening.check_tls(lab.staff, INTRANET, guide.INTRANET_NAME)
    hardening.check_tls(lab.staff, INTRANET, None)      # LGWAN terminals by address alike
    hardening.check_headers_once(lab.staff, ca.path, guide.INTRANET_NAME, INTRANET, {
        "/login": 200, "/": 303, "/static/intranet.css": 200, "/static/missing.css": 404})
    documented.run(lab.intranet, "install", "check-tls", SERVER_NAME=guide.INTRANET_NAME)
    public = lab.public[0]
    documented.run(public, "install", "check-tls", SERVER_NAME=guide.PUBLIC_NAME)
    hardening.check_public_host_sshd(public)
    hardening.check_administrator_login(lab, PUBLIC["public-1"][0], city.installation.admin_key())
    before = city.sequence("public-1")
    hardening.check_a_clone_is_refused_until_it_has_keys_of_its_own(city)
    publish(city, "ホスト鍵を作り直した後")
    after = city.wait_for_sequence(PUBLIC, before)
    assert after["public-1"] == after["public-2"] > before


# Issue 24: what staff set on the programme for residents who have to act (the mirror tests'
# 返送先 and 同封するもの), and the two shipped kinds staff choose, as residents read them.
KINDS_READ = {
    "ja": ("本人確認書類の写し", "申請書への署名"),
    "en": ("A copy of an identity document", "Your signature on the application form"),
    "ja-easy": ("<ruby>運転免許証", "<ruby>署名<rp>"),
}


# A step that reads "today" and checks it minutes later starts clear of midnight (Japan's
# or UTC's) by this much: fresh-clone run K's step 12 counted lookups made at 23:59 JST on
# the day after.
DAY_STEP = 600


def test_11_a_deficiency_reaches_residents_with_what_where_and_by_when(city):
    """Staff mark an application 不備あり with two kinds, a sent date and a deadline (and a
    note of their own); after the four-eyes publication a resident on each public host, in
    Chromium over HTTPS, reads both kinds, where to send them, what to enclose, the
    deadline and the day the letter was sent in 日本語, English and やさしい日本語 (with
    ruby) — and never the note."""
    city.needs(2)
    clear_of_midnight(DAY_STEP)
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    sent, due = today - timedelta(days=1), today + timedelta(days=14)
    note = "免許証の写しが裏面のみ。6月3日に本人へ電話済み"
    before = {name: city.sequence(name) for name in PUBLIC}
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("sato")
        desk.set_return_details(PROGRAMME_NAME, RETURN_TO, ENCLOSE)
        desk.sign_in("tanaka")
        desk.mark_deficient("1234-5678", ["本人確認書類の写しがない", "署名がない"], sent, due, note)
    publish(city, "不備の通知")
    city.wait_for_sequence(PUBLIC, max(before.values()))
    days = {"ja": lambda d: f"{d.year}年{d.month}月{d.day}日",
            "en": lambda d: f"{d.day} {d:%B %Y}", "ja-easy": lambda d: f"{d.year}年{d.month}月{d.day}日"}
    for name in PUBLIC:
        with city.resident(name) as browser:
            for lang, (first, second) in KINDS_READ.items():
                items, facts, text = resident_action(browser, SITE, PROGRAMME, "1234-5678", lang)
                where = f"{name} {lang}"
                assert len(items) == 2 and first in items[0] and second in items[1], (where, items)
                assert _date_read(facts[0], lang) == days[lang](due), (where, facts)
                assert _date_read(facts[-1], lang) == days[lang](sent), (where, facts)
                assert "{" not in text and note[:8] not in text, (where, text[:800])
                if lang == "ja-easy":
                    assert "きゅうふきん" in text and "ふうとう" in text, (where, text[:800])
                else:
                    assert RETURN_TO[lang] in text and ENCLOSE[lang] in text, (where, text[:800])
    # The call centre's answer on the phone: the staff page shows what residents now read.
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("tanaka")
        shown = desk.open_application("1234-5678").locator("section.residents").inner_text()
    first, second = KINDS_READ["ja"]
    assert first in shown and second in shown and days["ja"](due) in shown, shown
    assert "次回の公開で反映されます" not in shown and note[:8] not in shown, shown
    city.passed.add(11)


def _date_read(fact: str, lang: str) -> str:
    """A date as the resident's browser shows it. In やさしい日本語 each part carries its
    reading (2026年ねん 12月じゅうにがつ 20日はつか): there must be one, and without the
    readings and the spaces between the parts it is the date written as in 日本語."""
    if lang != "ja-easy":
        return fact
    assert "ねん" in fact and "がつ" in fact, fact
    return re.sub(r"[\u3041-\u309f\s]", "", fact)

def test_12_the_dashboard_counts_both_public_hosts_lookups_after_the_next_delivery(city):
    """The relief, measured: residents look up on both public hosts; each host adds its
    answers up into the report the pusher may read; the next delivery fetches both reports
    in its SFTP sessions, and the dashboard's CSV for the council counts them together —
    the same numbers the hosts wrote, nothing a host did not report."""
    city.needs(2)
    clear_of_midnight(DAY_STEP)
    for name in PUBLIC:
        with city.resident(name) as browser:
            resident_reads(browser, SITE, PROGRAMME, "1234-5678", "ja")
    time.sleep(USAGE_FLUSH_SECONDS + 1)
    for name in PUBLIC:   # the next answer adds the noted ones up and writes the report
        with city.resident(name) as browser:
            resident_reads(browser, SITE, PROGRAMME, "1234-5678", "en")
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    reported = sum(_reported_lookups(host, today) for host in city.lab.public)
    assert reported >= 2, reported
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("tanaka")
        # Any change allowed from where the earlier steps left it (審査中 after step 2,
        # 照会中 after 4, 不備あり after 11).
        moved_on = "reviewing" if city.passed & {4, 11} else "inquiring"
        desk.change_status("1234-5678", moved_on, "書類がそろい審査を再開")
    publish(city, "利用件数の取得を含む公開")
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        page = desk.sign_in("sato")
        # Fetched by the page itself: only the browser resolves the staff site's name (the
        # lab's resolver rules), and it sends the session cookie as a download would.
        status, body = page.evaluate(
            "async () => { const r = await fetch('/dashboard/usage.csv');"
            " return [r.status, await r.text()]; }")
        assert status == 200, (status, body[:300])
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        page.goto("/dashboard")
        assert "オンライン照会と問い合わせ対応" in desk.text(), desk.text()[:800]
    assert rows[0][1].startswith("オンライン照会件数"), rows[0]
    counted = {row[0]: int(row[1]) for row in rows[1:]}
    assert counted[today] == reported, (reported, rows[-3:])
    city.passed.add(12)


USAGE_FLUSH_SECONDS = 30    # public_mirror.usage.UsageCounter's flush_every, as shipped


def _reported_lookups(host, today):
    report = json.loads(host.run("cat", USAGE_REPORT).stdout)
    return sum(row["lookups"] for row in report["counts"] if row["day"] == today)


# Issue 29: the balancer in front of the public hosts (install guide §9), on a host of its own.
FIGURES = guide.ROOT / "build" / "e2e" / "balancer-figures.json"
SERVERS = {"public-1": "public1", "public-2": "public2"}   # HAProxy's names, in PUBLIC's order
DRILL_RESIDENTS = RESIDENTS[:48]
LOAD_EACH, LOAD_PER_RESIDENT = 500, 18     # per configuration: 9,000 lookups


def test_13_a_balancer_installed_by_the_guide_sends_residents_to_the_public_hosts(city):
    """§9 as written: a balancer host with Debian's haproxy, the preview and the install, the
    public hosts installed again with BALANCER_ADDRESSES; a resident in Chromium looks up
    through it over TLS, and the public host counts the resident's own address."""
    city.needs(2)
    lab = city.lab
    lab.balancer = add_balancer(lab).boot()
    # The lab's hosts share one image holding every host's packages; a city's balancer host
    # has Debian's haproxy and not these (nginx's default site would hold port 80).
    lab.balancer.run("systemctl", "disable", "--now", "nginx.service", "postgresql.service")
    city.installation.balancer(lab.balancer, BALANCER, [outer for _, outer in PUBLIC.values()])
    for name, host in zip(PUBLIC, lab.public, strict=True):
        city.installation.behind_balancer(host, name, BALANCER)
    rotation = Rotation(lab.balancer)
    try:
        for server in SERVERS.values():
            rotation.wait_for(server, "UP", PUT_BACK_WAIT, since=0)
    finally:
        rotation.stop()
    logged = [_lookups_logged(host) for host in lab.public]
    with city.resident_through_balancer() as browser:
        status, as_of, page = resident_reads(browser, SITE, PROGRAMME, "1234-5678", "ja")
    assert status and re.search(r"\d", as_of), page[:600]
    new = [line for host, before in zip(lab.public, logged, strict=True)
           for line in _lookups_logged(host)[len(before):]]
    # The public host saw the resident, not the balancer (its limits count each resident).
    assert new and all(line.startswith(f"{RESIDENT} ") for line in new), new
    assert guide.failed_units(lab.balancer) == ""
    city.passed.add(13)


def _lookups_logged(host):
    log = host.run("cat", "/var/log/nginx/shinsei-mirror.access.log", check=False).stdout
    return [line for line in log.splitlines() if '"POST /lookup ' in line]


def test_14_residents_look_up_through_the_balancer_while_hosts_fail(city):
    """Issue 29 item 3, the public side: residents keep looking up through the balancer
    (48 addresses, each every 2.5 s, a new HTTPS connection each) while (a) public-2 is
    powered off, a publication reaches public-1 alone, public-2 comes back behind (kept out
    by the sequence agent) and is caught up by the runbook's command, (b) a new publication
    is swapped in on both hosts, (c) public-1's clock is days ahead, so its snapshot is
    expired for it ("stale"), then put right. A lookup may fail only between a fault and the
    balancer taking that host out (plus what was on its way then); every other lookup is
    answered. The figures go to build/e2e/."""
    city.needs(13)
    lab = city.lab
    add_residents(lab)
    rotation = Rotation(lab.balancer)
    try:
        for server in SERVERS.values():
            rotation.wait_for(server, "UP", PUT_BACK_WAIT, since=0)
    except BaseException:
        rotation.stop()
        raise
    lookups = Lookups(lab.resident, BALANCER, guide.PUBLIC_NAME, city.ca.path, DRILL_RESIDENTS,
                      PROGRAMME, "1234-5678")
    drill = Drill(lookups, rotation)
    try:
        began, sent = time.monotonic(), rotation.sessions()
        guide.wait_for("the residents' lookups are answered",
                       lambda: lookups.answered_since(began) >= 40, timeout=30)
        # Both hosts have residents of their own (the hash spreads the 48 addresses).
        spread = {s: n - sent[s] for s, n in rotation.sessions().items()}
        assert all(n > 0 for n in spread.values()), spread

        behind = city.sequence("public-2")      # read before the fault's clock starts
        with drill.fault("public-2 powered off, a publication meanwhile",
                         SERVERS["public-2"]) as (fault, taken_out):
            lab.public[1].shutdown()
            taken_out()
            # public-1 alone answers everyone, and alone receives the publication.
            publish(city, "ロードバランサー越し・公開ホスト停止中", every_host=False)
            city.wait_for_sequence(["public-1"], behind)
            lab.public[1].boot()
            guide.wait_for("public-2 answers again, with the older snapshot",
                           lambda: city.sequence("public-2") == behind, timeout=120)
            # Its /healthz says "ok": HAProxy's own check would put it back within ~4 s; the
            # sequence agent (deploy/balancer/sequence_agent.py) keeps it out, behind.
            time.sleep(DETECTION_BOUND)
            assert [c for c in rotation.changes if c[1] == SERVERS["public-2"]
                    and c[0] > fault.out] == [], rotation.changes
            fault.mended = time.monotonic()
            caught_up = documented.run(lab.intranet, "runbook", "catch-up-now").stdout
            assert "FAILED" not in caught_up, caught_up

        swap = time.monotonic()
        before = max(city.sequence(name) for name in PUBLIC)
        publish(city, "ロードバランサー越しの公開")
        city.wait_for_sequence(PUBLIC, before)
        drill.calm.append(("new snapshot swapped in", swap, time.monotonic()))

        clock_ahead(lab.public[0])
        with drill.fault("public-1 stale (clock 4 days ahead)", SERVERS["public-1"]) as (fault, taken_out):
            restart_web(lab.public[0])
            taken_out()
            # Out for the reason made, not only for its restart: its /healthz says "stale".
            guide.wait_for("public-1 says its snapshot is stale", lambda: healthz(
                lab.resident, guide.PUBLIC_NAME, PUBLIC["public-1"][1], city.ca.path
            ).get("status") == "stale", timeout=30)
            fault.mended = time.monotonic()
            clock_right(lab.public[0])
        settled = time.monotonic()
        guide.wait_for("lookups after the last host is back",
                       lambda: lookups.answered_since(settled) >= 40, timeout=30)
    finally:
        records = lookups.stop()
        rotation.stop()
    summary = drill.summary(records)
    _record_figures("drill", summary)
    assert not summary["failed_after_detection"], summary
    for what, fault in summary["faults"].items():
        assert fault["detection_s"] <= DETECTION_BOUND + 3, (what, summary["faults"])
    assert all(calm["failed"] == 0 and calm["lookups"] > 0 for calm in summary["calm"].values())
    assert guide.failed_units(lab.balancer) == ""


def test_15_lookups_per_second_through_the_balancer_and_one_host_alone(city):
    """Issue 29 item 4: the same load (500 residents, 18 lookups each on a keep-alive
    connection, 8 connections at once) through the balancer to both public hosts, then to
    public-1 alone by its own address; every lookup answered. Figures in
    build/e2e/balancer-figures.json (docs/performance.md quotes them: the machine's two cores
    serve every host and the residents here)."""
    city.needs(13)
    lab = city.lab
    add_load_residents(lab, [(lab.balancer, "eth0"), (lab.public[0], "eth1")])
    through = lookup_burst(lab.resident, BALANCER, city.ca.path, LOAD_RESIDENTS[:LOAD_EACH])
    alone = lookup_burst(lab.resident, PUBLIC["public-1"][1], city.ca.path,
                         LOAD_RESIDENTS[LOAD_EACH:2 * LOAD_EACH])
    _record_figures("load", {"through the balancer, two public hosts": through,
                             "public-1 alone": alone})
    for figures in (through, alone):
        assert figures["lookups"] == LOAD_EACH * LOAD_PER_RESIDENT and figures["failed"] == 0, \
            figures


def lookup_burst(terminal, address, ca, sources):
    result = terminal.run(sys.executable, str(CLIENT), "burst", "--address", address, "--name",
                          guide.PUBLIC_NAME, "--ca", str(ca), "--programme", PROGRAMME,
                          "--receipt", "1234-5678", "--per-source", str(LOAD_PER_RESIDENT),
                          "--connections", "8", "--sources", *sources, timeout=300)
    return json.loads(result.stdout)


def _record_figures(what, figures):
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    recorded[what] = figures
    FIGURES.write_text(json.dumps(recorded, indent=2, ensure_ascii=False))
    print(f"\nbalancer {what}: {json.dumps(figures, ensure_ascii=False)}")


def test_16_the_balancer_adds_only_its_two_ports_to_the_dmz(city):
    """docs/security-review.md, the balancer host: HAProxy listens on 80 and 443 only, its
    admin socket is a local one for root and the haproxy group, and the sequence agent
    listens on loopback only."""
    city.needs(13)
    balancer = city.lab.balancer
    listening = balancer.run("ss", "-Htlnp").stdout.splitlines()
    ports = {re.search(r":(\d+)\s", line)[1] for line in listening if '"haproxy"' in line}
    assert ports == {"80", "443"}, listening
    socket = balancer.run("stat", "-c", "%F %a %U %G", "/run/haproxy/admin.sock").stdout.split()
    assert socket == ["socket", "660", "root", "haproxy"], socket
    # The sequence agent HAProxy asks: loopback only, a dynamic user without any privilege.
    agent = [line for line in listening if '"python3"' in line]
    assert len(agent) == 1 and " 127.0.0.1:9707 " in agent[0], listening
    user = balancer.run("systemctl", "show", "-p", "DynamicUser,ActiveState",
                        "shinsei-balancer-agent.service").stdout.split()
    assert user == ["DynamicUser=yes", "ActiveState=active"], user
    # Its exposure as docs/security-review.md states it (the table's balancer row).
    check_review(city.lab)
