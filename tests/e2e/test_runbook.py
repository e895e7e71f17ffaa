"""The days after the first: the runbook's procedures run on booted hosts exactly as
docs/runbook.*.md writes them (tests/e2e/documented.py takes each command from the document).

The steps follow the runbook's table of contents: each step's docstring opens with `§` and
the heading it proves, in the runbook's order (tests/unit/test_documented_commands.py holds
them to it). A step that fails names itself; the steps after it say which one they needed.
"""

import json
import re
import time
from pathlib import PurePosixPath

import pytest
from cryptography.hazmat.primitives import serialization

from lab.import_files import encoded
from tests.e2e import city as guide
from tests.e2e import documented
from tests.e2e.conftest import INTRANET, LGWAN, PUBLIC, STAFF, add_intranet
from tests.e2e.people import READS, StaffDesk, healthz, resident_reads
from tests.e2e.scenario import (
    INBOX,
    PROGRAMME,
    SITE,
    STAFF_SITE,
    first_publication,
    install_every_host,
    open_city,
    publish,
    staff_app_state,
    staff_reach,
    transfer_settled,
)
from transfer.build import sign_body
from transfer.keys import SigningKey, key_id
from transfer.snapshot import parse

MIRROR_STATE = "/var/lib/shinsei-mirror/state"
SIGNED = "/var/spool/shinsei/transfer/signed"
MEDIUM = "/media/usb"
CHECKPOINTS = "/var/lib/shinsei-transfer/checkpoints/audit-checkpoints.jsonl"
# The steps below that build on one another (the numbered ones are the lead's).
CATCH_UP, DISK_FULL, DISPOSAL, RESTORE, SIGNING_KEY, LOOKUP_KEY, LEAK = 21, 22, 5, 61, 81, 82, 91
STANDBY_STEP = 71
# The second intranet host (the database's standby), and an application the staff change
# around its promotion (imported 受付済 on the first day, as typed; no other step touches it).
STANDBY, STANDBY_RECEIPT = f"{LGWAN}.2", "12345680"
# Where the drill leaves its figure (docs/performance.md quotes it).
STANDBY_FIGURES = guide.ROOT / "build" / "e2e" / "standby-figures.json"
# The programme step 5 disposes of, and its applicants: numbers and names no other programme
# of the city holds, so any row that still names them is theirs.
DISPOSED, DISPOSED_NAME = "k2025", "子育て応援給付金"
LEAVERS = [
    ["9025-0001", "小林　三郎", "コバヤシ　サブロウ", "昭和60年4月5日", "北区6", "042-000-0011",
     "令和2年6月4日", "郵送", "受付済", "", "", "", ""],
    ["9025-0002", "中村　さくら", "ナカムラ　サクラ", "1991/7/7", "西区7-8", "042-000-0012",
     "R2.6.5", "オンライン", "受付済", "", "", "", ""],
]
CALL_NOTE = "小林様ご本人から電話、口座を確認"          # a reason in the history that names a person
EARLY_REASON = "議会の決定により保存期間を短縮したため（第12号）"
TRACES = [row[0] for row in LEAVERS] + [row[0].replace("-", "") for row in LEAVERS] + ["小林", "中村"]
# Where disposal erases them (docs/runbook 事業の終了・保存・廃棄 4.).
ERASED_FROM = ("applications", "status_changes", "audit_personal", "publication_rows")
WATCH = "shinsei-mirror-receive.path"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    with open_city(tmp_path_factory.mktemp("runbook")) as city:
        install_every_host(city)
        first_publication(city, tmp_path_factory.mktemp("first"))
        yield city


def test_1_every_day(city):
    """§ 日々の運用: the audit chain verified on the intranet host, each public host's status."""
    verified = documented.run(city.lab.intranet, "runbook", "audit-verify")
    assert "audit chain OK" in verified.stdout, verified.stdout
    for host in city.lab.public:
        status = documented.run(host, "runbook", "mirror-status").stdout
        assert "active snapshot: sequence" in status and ", intact" in status, status
        assert "last rejection" not in status, status
        # The weekly comparison: the public host's checkpoints, carried to the intranet host.
        documented.run(host, "runbook", "mirror-checkpoints")
        carried = host.run("cat", "/root/mirror-checkpoints.jsonl").stdout
        assert carried.strip(), f"{host.name} kept no audit checkpoint"
        city.lab.intranet.write("/srv/mirror-checkpoints.jsonl", carried.encode("utf-8"))
        compared = documented.run(city.lab.intranet, "runbook", "audit-verify-mirror",
                                  CHECKPOINTS_FILE="/srv/mirror-checkpoints.jsonl").stdout
        assert "audit chain OK" in compared, compared
        assert "公開ホストの署名付きチェックポイント" in compared, compared
    city.passed.add(1)


HOLD = "/run/shinsei-e2e-hold"
SIGN_HOLD = "/run/systemd/system/shinsei-transfer-sign.service.d/zz-e2e-hold.conf"


def test_an_approval_while_a_publication_runs_is_published_when_it_ends(city):
    """§ 日々の運用: publishing. A supervisor approves while the run an earlier approval
    started is past its reading: that run cannot publish it, and systemd's watch rests while
    the run goes on. When the run ends, one more starts by itself and publishes it — no
    timer, no command. The run is held between the builder and the signer (a file the
    signer's step waits on), so the second approval lands after the builder has read."""
    intranet = city.lab.intranet
    build, sign = "shinsei-transfer-build.service", "shinsei-transfer-sign.service"
    before = city.sequence("public-1")
    intranet.write(SIGN_HOLD, (f"[Service]\nExecStartPre=/bin/sh -c 'while [ -e {HOLD} ]; "
                               "do sleep 0.2; done'\n").encode())
    intranet.write(HOLD, b"")
    intranet.run("systemctl", "daemon-reload")
    runs = guide.unit_property(intranet, build, "InvocationID")
    try:
        with city.staff() as browser:
            desk = StaffDesk(browser, STAFF_SITE)
            desk.sign_in("tanaka")
            first = desk.request_publication("実行中の承認・先")
            desk.sign_in("sato")
            desk.approve_publication(first)
            guide.wait_for("the first run's builder has read, its signer waits", lambda: (
                guide.unit_property(intranet, build, "ActiveState") == "inactive"
                and guide.unit_property(intranet, sign, "ActiveState") == "activating"),
                timeout=120)
            assert guide.unit_property(intranet, build, "InvocationID") != runs
            desk.sign_in("tanaka")
            second = desk.request_publication("実行中の承認・後")
            desk.sign_in("sato")
            desk.approve_publication(second)
            intranet.run("rm", "-f", HOLD)
            guide.wait_for(f"No.{second} delivered to both hosts, by itself", lambda: (
                desk.publication(second).count("転送済") == 2), timeout=180)
            assert desk.publication(first).count("転送済") == 2, desk.publication(first)
    finally:
        intranet.run("rm", "-f", HOLD, SIGN_HOLD)
        intranet.run("systemctl", "daemon-reload")
    city.wait_for_sequence(PUBLIC, before)
    assert guide.failed_units(intranet) == ""


SKIPPED_BUILD = "a publication run is still going: skipped"


def skipped_builds(host):
    """How many starts the build's condition skipped in this boot, as its journal says."""
    host.run("journalctl", "--sync", check=False)
    return host.run("journalctl", "-b", "--no-pager", "-o", "cat", "-u",
                    "shinsei-transfer-build.service").stdout.count(SKIPPED_BUILD)


@pytest.mark.parametrize("held", ["shinsei-transfer-sign.service", "shinsei-transfer.service"])
def test_a_start_while_a_run_goes_on_does_not_cut_it_in_two(city, held):
    """§ 日々の運用: publishing. The guide's `systemctl start shinsei-transfer.service` (or the
    weekday timer) lands while the run an approval started is past its build: held at its
    signer, then at its recorder. systemd pulls the chain's finished steps in again; before
    the steps' conditions, that start's build ran beside the recorder, which then settled
    the publication as failed (seen on these hosts). Now its build, signer and pusher are
    skipped, the run publishes the approval, and one more run follows when it ends."""
    intranet = city.lab.intranet
    build = "shinsei-transfer-build.service"
    dropin = f"/run/systemd/system/{held}.d/zz-e2e-hold.conf"
    before = city.sequence("public-1")
    intranet.write(dropin, (f"[Service]\nExecStartPre=/bin/sh -c 'while [ -e {HOLD} ]; "
                            "do sleep 0.2; done'\n").encode())
    intranet.write(HOLD, b"")
    intranet.run("systemctl", "daemon-reload")
    try:
        with city.staff() as browser:
            desk = StaffDesk(browser, STAFF_SITE)
            desk.sign_in("tanaka")
            number = desk.request_publication(f"実行中の起動（{held.split('.')[0]}）")
            desk.sign_in("sato")
            desk.approve_publication(number)
            guide.wait_for(f"the approval's run waits at {held}", lambda: (
                guide.unit_property(intranet, held, "ActiveState") == "activating"),
                timeout=120)
            skipped = skipped_builds(intranet)
            intranet.run("systemctl", "start", "--no-block", "shinsei-transfer.service")
            guide.wait_for("the start's build skipped", lambda: skipped_builds(intranet) > skipped,
                           timeout=60)
            the_skip = guide.unit_property(intranet, build, "InvocationID")
            intranet.run("rm", "-f", HOLD)
            guide.wait_for(f"No.{number} delivered to both hosts", lambda: (
                desk.publication(number).count("転送済") == 2), timeout=180)
            guide.wait_for("no publication run under way or to come",
                           lambda: transfer_settled(intranet), timeout=300)
            row = desk.publication(number)
            assert "公開済" in row and "転送失敗" not in row, row
        # The start was not lost: one more run followed, and skipped nothing.
        assert guide.unit_property(intranet, build, "InvocationID") != the_skip
        assert skipped_builds(intranet) == skipped + 1
    finally:
        intranet.run("rm", "-f", HOLD, dropin)
        intranet.run("systemctl", "daemon-reload")
    city.wait_for_sequence(PUBLIC, before)
    assert guide.failed_units(intranet) == ""


def test_2_a_receiver_that_stopped_is_recovered(city):
    """§ 受信処理が止まったとき: a cut activation log stops public-1's receiver (public-2 goes on);
    the documented recovery brings it back and it takes what waited in its inbox."""
    host = city.lab.public[0]
    before = city.sequence("public-1")
    host.run("truncate", "-s", "-20", f"{MIRROR_STATE}/activation.log")
    publish(city, "受信停止中の公開")
    newest = city.wait_for_sequence(["public-2"], before)["public-2"]
    guide.wait_for("public-1's receiver refuses to go on with a damaged log",
                   lambda: "recover" in host.run("journalctl", "-b", "--no-pager", "-n", "20", "-u",
                                                 "shinsei-mirror-receive.service").stdout)
    assert city.sequence("public-1") == before
    assert host.run("ls", INBOX).stdout.strip() != "", "the delivery should wait in the inbox"
    # The city's monitoring: once a delivery has waited longer than the receiver's 10 minutes
    # (aged here), public-1's /healthz says its receiver stopped while residents are answered.
    receiver = "shinsei-mirror-receive.service"
    started, touched = guide.unit_property(host, receiver, "InvocationID"), time.monotonic()
    host.run("sh", "-c", f"touch -d '-11 minutes' {INBOX}/*")
    # The touch starts the receiver (refused again: the log is cut). The documented
    # recovery's `systemctl start` must not join that run: wait for it to end (or, if none
    # began within 15 s, go on).
    guide.wait_for("the receiver run the touch started has ended", lambda: guide.unit_idle(
        host, receiver) and (guide.unit_property(host, receiver, "InvocationID") != started
                             or time.monotonic() - touched > 15), timeout=60)
    health = healthz(city.lab.resident, guide.PUBLIC_NAME, PUBLIC["public-1"][1], city.ca.path)
    assert health.get("status") == "receiver_stopped", health
    assert health["receiver"]["state"] == "stopped" and health["sequence"] == before, health
    recovered = documented.run(host, "runbook", "receiver-recover").stdout
    assert "recovered: last accepted sequence" in recovered, recovered
    assert city.wait_for_sequence(["public-1"], before)["public-1"] == newest
    assert guide.failed_units(host) == ""
    city.passed.add(2)


def test_a_public_host_that_was_down_catches_up(city):
    """§ 公開ホストが止まっていたとき: public-2 is off at a publication; once it is back, the
    documented command sends it the current publication — the same file, no new request."""
    lab = city.lab
    before = city.sequence("public-2")
    lab.public[1].shutdown()
    job = request_and_approve(city, "公開ホスト停止中")
    assert job.returncode != 0, "the run with a host down should fail (for that host alone)"
    newest = city.wait_for_sequence(["public-1"], before)["public-1"]
    lab.public[1].boot()
    guide.wait_for("public-2 answers again, with what it had",
                   lambda: city.sequence("public-2") == before)
    sent = documented.run(lab.intranet, "runbook", "catch-up-now").stdout
    assert "FAILED" not in sent, sent
    assert city.wait_for_sequence(["public-2"], before)["public-2"] == newest
    newest_row = staff_publications(city)[0]
    assert "再送済" in newest_row, newest_row
    assert guide.failed_units(lab.intranet) == ""
    city.passed.add(CATCH_UP)


def test_a_public_host_whose_disk_is_full(city):
    """§ 公開ホストのディスクが一杯になったとき: public-2's inbox is its own small file system,
    filled by an upload cut off half an hour ago; the publication fails for it alone and says
    why, and the burst of inbox changes leaves the inbox watch running; the documented
    clean-up and a plain run of the transfer job (no new approval) deliver it, and the next
    publication arrives with nobody restarting the watch (an upload abandoned hours ago is
    removed by the receiver on the way)."""
    host = city.lab.public[1]
    before = {name: city.sequence(name) for name in PUBLIC}
    owner = host.run("stat", "-c", "%u:%g", INBOX).stdout.strip()
    uid, gid = owner.split(":")
    host.run("mount", "-t", "tmpfs", "-o", f"size=256k,mode=2770,uid={uid},gid={gid}", "tmpfs", INBOX)
    # A city's own inbox file system is there at boot; here it comes later, so the inbox watch
    # (inotify on the directory) is set again on it, as a boot would. From here on nobody
    # restarts it: when it was last started says so at the end.
    host.run("systemctl", "restart", WATCH)
    started = watch_started(host)
    try:
        # Younger than the receiver's hour: it stays until the runbook's clean-up.
        host.run("sh", "-c", f"head -c 1M /dev/zero > {INBOX}/.cut-off.part; "
                 f"touch -d '-30 minutes' {INBOX}/.cut-off.part", check=False)
        newest = publish(city, "容量不足のホストあり", every_host=False)
        assert re.search(rf"{re.escape(PUBLIC['public-2'][0])}\S*:\s+転送できませんでした", newest), newest
        # sftp-server reports a full disk as a short file: the screen says the file did not
        # arrive whole and that the host's free space is the thing to look at.
        assert "空き容量" in newest, newest
        delivered = city.wait_for_sequence(["public-1"], before["public-1"])["public-1"]
        assert city.sequence("public-2") == before["public-2"]
        # More changes than the default start limit allowed (5 runs in 10 s): the watch holds.
        host.run("sh", "-c", f"for i in $(seq 40); do : > {INBOX}/.burst.part; "
                 f"rm -f {INBOX}/.burst.part; sleep 0.25; done")
        assert watch_state(host) == ("active", "success"), receiver_journal(host)
        looked = documented.run(host, "runbook", "disk-full-look").stdout
        assert ".cut-off.part" in looked and "100%" in looked, looked
        documented.run(host, "runbook", "disk-full-clear")
        assert host.run("test", "-e", f"{INBOX}/.cut-off.part", check=False).returncode == 1
        sent = documented.run(city.lab.intranet, "runbook", "catch-up-now").stdout
        assert "FAILED" not in sent, sent
        assert city.wait_for_sequence(["public-2"], before["public-2"])["public-2"] == delivered
        # An upload abandoned two hours ago: the receiver removes it itself, and says so.
        host.run("sh", "-c", f"printf cut > {INBOX}/.left-behind.part; "
                 f"touch -d '-2 hours' {INBOX}/.left-behind.part")
        publish(city, "容量回復後の公開")
        after = city.wait_for_sequence(PUBLIC, delivered)
        assert after["public-1"] == after["public-2"] > delivered
        assert watch_state(host) == ("active", "success") and watch_started(host) == started
        assert host.run("test", "-e", f"{INBOX}/.left-behind.part", check=False).returncode == 1
        journal = guide.journal_showing(host, "removed an abandoned upload .left-behind.part",
                                        "shinsei-mirror-receive.service", WATCH)
        assert re.search(r"removed an abandoned upload \.left-behind\.part: unfinished, "
                         r"untouched for 1[23]\d min \(3 bytes\)", journal), journal[-2000:]
        assert guide.failed_units(host) == ""
    finally:
        host.run("umount", INBOX, check=False)
        host.run("systemctl", "restart", WATCH, check=False)
    city.passed.add(DISK_FULL)


def test_4_audit_records_past_retention_are_archived(city):
    """§ 保存期間: the monthly retention run, started now as the runbook says; each public
    host's activation log copied to the archive, the receiver untouched."""
    pruned = documented.run(city.lab.intranet, "runbook", "audit-prune-now").stdout
    # A city a few minutes old has nothing past retention: the run says so and ends well
    # (what an archive holds is proven in tests/integration/test_audit_integrity.py).
    assert "Finished shinsei-audit-prune.service" in pruned, pruned
    assert "nothing to archive" in pruned or "archived" in pruned, pruned
    assert guide.failed_units(city.lab.intranet) == ""
    verified = documented.run(city.lab.intranet, "runbook", "audit-verify")
    assert "audit chain OK" in verified.stdout
    # The activation logs are never cut: each public host's copy goes to the archive.
    for host in city.lab.public:
        host.run("mkdir", "-p", MEDIUM)
        documented.run(host, "runbook", "activation-log-copy")
        copied = host.sh(f"ls {MEDIUM}/activation-$(hostname)-*.log").stdout.split()
        assert len(copied) == 1, copied
        assert host.read(copied[0]) == host.read(f"{MIRROR_STATE}/activation.log")
        assert ", intact" in documented.run(host, "runbook", "mirror-status").stdout
    city.passed.add(4)


def test_5_a_programme_is_disposed_of(city, tmp_path):
    """§ 事業の終了・保存・廃棄: a second programme's applicants, a publication of them
    requested; a backup set taken and copied as the runbook says before a disposal (the request
    still waiting in it); the publication approved, then the programme closed, archived and
    disposed of on the screens (requested by one supervisor, approved by another). The record
    is saved from its screen, no row names an applicant any more, and the housekeeping runs."""
    intranet = city.lab.intranet
    source = tmp_path / "leavers.csv"
    source.write_bytes(encoded(LEAVERS))
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("sato")
        desk.add_programme(DISPOSED, DISPOSED_NAME, "Child support payment")
        desk.sign_in("tanaka")
        desk.import_csv(DISPOSED_NAME, source)
        desk.change_status(LEAVERS[0][0], "reviewing", CALL_NOTE)
        # A request freezes their numbers until it is published: the set below holds one waiting.
        waiting = desk.request_publication("子育て応援給付金の公開")
    held = traces(intranet)
    assert all(held.values()), f"rows naming the applicants before the disposal: {held}"
    assert dumped_traces(intranet), "a dump of the database should name them before the disposal"
    taken = json.loads(documented.run(intranet, "runbook", "backup-now").stdout)
    assert taken["status"] == "ok", taken
    city.set_before_disposal = PurePosixPath(taken["last_set"]).name
    documented.run(intranet, "runbook", "backup-copy", NAME=city.set_before_disposal)
    before = city.sequence("public-1")
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("sato")
        desk.approve_publication(waiting)
        job = city.run_transfer_job()
        assert job.returncode == 0, job.stdout + job.stderr + guide.unit_journals(intranet)
        city.wait_for_sequence(PUBLIC, before)
        desk.programme_step(DISPOSED, "照会を終了する", "照会終了")
        desk.programme_step(DISPOSED, "アーカイブする", "保存中（読み取り専用）")
        number = desk.request_early_disposal(DISPOSED, EARLY_REASON)
        desk.sign_in("suzuki")
        desk.approve_disposal(number)
        saved = desk.save_disposal_record(tmp_path)
    record = json.loads(saved.read_bytes())
    assert (record["programme"]["code"], record["applications"]) == (DISPOSED, len(LEAVERS)), record
    assert saved.name == f"disposal-{number}.json", saved.name    # the name the runbook gives
    city.disposal_record = (saved.name, saved.read_bytes())
    left = traces(intranet)
    assert not any(left.values()), f"rows naming the applicants after the disposal: {left}"
    # Every table, as the next backup holds it, and the security officer's audit CSV.
    assert dumped_traces(intranet) == [], "the database still names the disposed applicants"
    assert audit_csv_traces(city) == [], "the audit CSV still names the disposed applicants"
    documented.run(intranet, "runbook", "disposal-vacuum")
    assert guide.failed_units(intranet) == ""
    city.passed.add(DISPOSAL)



def test_a_backup_set_restored_on_a_fresh_intranet_host(city):
    """§ バックアップと復元: the set the unit makes (checked, private, with the public hosts'
    keys and every signed checkpoint), copied to the medium, restored onto a fresh intranet
    host from that set alone with the runbook's commands; the audit chain agrees with every
    signed checkpoint. Then the host goes back to the set taken before step 5's disposal: the
    disposed applicants are back until the kept record is applied again, after which no row
    names them, the chain verifies and the audit log shows the re-application. A publication
    then reaches both public hosts."""
    lab, install = city.lab, city.installation
    old = lab.intranet
    assert old.run("systemctl", "is-enabled", "shinsei-backup.timer").stdout.strip() == "enabled"
    # A run that cannot make a good set is a failed unit: what the monitoring watches says so.
    old.run("mv", CHECKPOINTS, f"{CHECKPOINTS}.away")
    try:
        assert old.run("systemctl", "start", "shinsei-backup.service", check=False).returncode != 0
        guide.journal_showing(old, f"バックアップに失敗しました: {CHECKPOINTS}",
                              "shinsei-backup.service")
        watched = documented.run(old, "runbook", "backup-watch", check=False)
        failed, _, status = watched.stdout.partition("\n{")
        assert watched.returncode == 1 and "shinsei-backup.service" in failed, watched.stdout
        assert json.loads("{" + status)["status"] == "failed", watched.stdout
    finally:
        old.run("mv", f"{CHECKPOINTS}.away", CHECKPOINTS)
    answer = json.loads(documented.run(old, "runbook", "backup-now").stdout)
    assert answer["status"] == "ok" and answer["reason"] is None, answer
    assert "shinsei-backup.service" not in guide.failed_units(old)
    made = answer["last_set"]
    name = PurePosixPath(made).name
    # Root's alone: the folder 0700, each file 0600, nothing empty.
    modes = old.sh(f"stat -c '%a %U %s %n' {made} {made}/*").stdout.splitlines()
    assert modes[0].startswith("700 root "), modes
    files = {line.split()[3].rsplit("/", 1)[1]: line.split()[:3] for line in modes[1:]}
    assert set(files) == {"SHA256SUMS", "manifest.json", "database.pgdump", "etc-shinsei.tar",
                          "host-files.tar", "audit-checkpoints.jsonl"}, files
    assert all(mode == "600" and owner == "root" and int(size) > 0
               for mode, owner, size in files.values()), files
    manifest = json.loads(old.read(f"{made}/manifest.json"))
    assert manifest["config"]["known_hosts"] == {"pusher/known_hosts": len(PUBLIC)}, manifest
    checkpoints = manifest["checkpoints"]["count"]
    signed = len(old.read(CHECKPOINTS).decode().splitlines())
    assert checkpoints == signed > 0, (checkpoints, signed)
    documented.run(old, "runbook", "backup-copy", NAME=name)
    # The medium goes to the new host (with step 5's set on it); the old one is gone for good.
    carried = [name, city.set_before_disposal] if city.set_before_disposal else [name]
    medium = old.run("tar", "-C", MEDIUM, "-cf", "-", *carried, text=False).stdout
    before = city.sequence("public-1")
    lab.retire(old)
    fresh = lab.intranet = add_intranet(lab, "intranet-new")
    fresh.boot()
    documented.run(fresh, "install", "os-packages-intranet")
    fresh.run("mkdir", "-p", MEDIUM)
    fresh.run("tar", "-C", MEDIUM, "-xpf", "-", input=medium, text=False)
    fresh.write(f"/root/{install.bundle.name}", install.bundle.read_bytes(), 0o644)
    documented.run(fresh, "install", "bundle-check", VERSION=install.version)
    restored = documented.run(fresh, "runbook", "restore-fresh-host", cwd=install.unpacked,
                              NAME=name, explain=lambda: guide.unit_journals(fresh)).stdout
    assert "PUBLIC_HOST_KEYS = /root/public-host-keys がありません" in restored, restored
    assert f"署名付きチェックポイント {checkpoints} 件すべてと一致します" in restored, restored
    assert f"agrees with {checkpoints} signed checkpoints" in restored, restored
    verified = documented.run(fresh, "runbook", "audit-verify").stdout
    assert "audit chain OK" in verified and "agrees with" in verified, verified
    checked = install.check(fresh, "intranet")
    assert "0 loaded units listed" in checked.stdout and "違いはありません" in checked.stdout, \
        checked.stdout
    # The replacement answers on the old address with a new interface: the staff's network
    # learns that like a real LAN does (its neighbour entry for the address goes stale and is
    # asked again), so the operator's first check is that the sign-in page answers.
    try:
        guide.wait_for("the staff terminal reaches the restored host's sign-in page",
                       lambda: staff_reach(city) == "200", timeout=120, interval=2)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{staff_app_state(fresh)}\n"
                             f"{lab.staff.run('ip', 'neigh', check=False).stdout}") from None
    back_before_the_disposal(city, fresh)
    newest = publish(city, "復元後の公開")
    assert newest.count("転送済") == len(PUBLIC), newest
    after = city.wait_for_sequence(PUBLIC, before)
    assert min(after.values()) > before
    for host in lab.public:
        status = documented.run(host, "runbook", "mirror-status").stdout
        assert f"active snapshot: sequence {after[host.name]}" in status, status
    assert guide.failed_units(fresh) == ""
    city.passed.add(RESTORE)


def test_the_database_standby_takes_over_and_the_old_primary_returns(city):
    """§ データベースのスタンバイ: a second intranet host installed as the guide's §10 says
    streams the primary's database, synchronously once it receives. The primary's PostgreSQL
    is killed in the middle of staff work and the standby promoted by the runbook's command:
    the staff go on in the browser (the app is not restarted), the change confirmed before
    the failure is there, `audit verify` agrees with the signed checkpoints and the next
    publication reaches both public hosts. The old primary comes back as the standby by the
    runbook's base backup; the same commands the other way make the first host the primary
    again, so the steps after this one find the city as it was (with its standby)."""
    lab, install = city.lab, city.installation
    primary = lab.intranet
    standby = lab.host("intranet-2", {"eth0": ("lgwan", f"{STANDBY}/24")})
    standby.boot()
    install.write_values(primary, guide.intranet_values("/root/public-host-keys")
                         + guide.values_file(STANDBY_HOST=STANDBY, STANDBY_MODE="sync"))
    first = documented.run(primary, "install", "intranet-install", cwd=install.unpacked,
                           explain=lambda: guide.unit_journals(primary)).stdout
    assert "今は非同期です" in first, first      # sync only once the standby receives
    documented.run(primary, "install", "standby-carry")
    guide.carry_file(primary, f"{MEDIUM}/carry-to-standby.tar", standby)
    documented.run(standby, "install", "os-packages-intranet")
    standby.write(f"/root/{install.bundle.name}", install.bundle.read_bytes(), 0o644)
    documented.run(standby, "install", "bundle-check", VERSION=install.version)
    install.write_values(standby, guide.values_file(
        MANAGEMENT_ADDRESS=STAFF, PRIMARY_HOST=INTRANET, STANDBY_FROM="/root/carry-to-standby"))
    documented.run(standby, "install", "standby-unpack")
    guide.previewed(documented.run(standby, "install", "standby-preview", cwd=install.unpacked,
                                   check=False))
    documented.run(standby, "install", "standby-install", cwd=install.unpacked,
                   explain=lambda: guide.unit_journals(standby))
    guide.wait_for("the standby streams", lambda: "streaming" in documented.run(
        primary, "runbook", "standby-state").stdout)
    documented.run(primary, "install", "intranet-install", cwd=install.unpacked,
                   explain=lambda: guide.unit_journals(primary))
    state = guide.wait_for("the standby is synchronous", lambda: standby_row(primary, "sync"))
    assert STANDBY in state, state
    checked = install.check(standby, "intranet-standby")
    assert "0 loaded units listed" in checked.stdout and "違いはありません" in checked.stdout, \
        checked.stdout

    before = city.sequence("public-1")
    try:
        took = the_standby_takes_over(city, primary, standby)
        # What the figures ask for: from the failure to the first staff page served
        # (the operator's promotion started at once; a real one adds the time to notice).
        print(f"standby promotion: failure to the first staff page served in {took:.1f} s")
        STANDBY_FIGURES.parent.mkdir(parents=True, exist_ok=True)
        STANDBY_FIGURES.write_text(json.dumps(
            {"failure_to_first_staff_page_s": round(took, 2), "mode": "sync"}))
        assert status_of(standby, STANDBY_RECEIPT) == "inquiring"
        verified = documented.run(primary, "runbook", "audit-verify").stdout
        assert "audit chain OK" in verified and "agrees with" in verified, verified
        newest = publish(city, "昇格後の公開")
        assert newest.count("転送済") == len(PUBLIC), newest
        after = city.wait_for_sequence(PUBLIC, before)
        assert min(after.values()) > before, after
    finally:
        # However far the drill got, the steps after this one find the first host the
        # primary and the second its standby: left promoted, they would publish and verify
        # against the second host's records, or find no database on the first.
        first_host_primary_again(primary, standby)
    assert status_of(primary, STANDBY_RECEIPT) == "inquiring"
    # Synchronous, with the standby down: the primary switched to asynchronous goes on taking
    # writes, and back to synchronous once the standby streams again.
    standby.run("systemctl", "stop", "postgresql@15-main")
    try:
        documented.run(primary, "runbook", "standby-sync-off")
        primary.run("runuser", "-u", "postgres", "--", "psql", "-X", "-d", "shinsei", "-c",
                    "CREATE TEMP TABLE written_while_alone (x int)", timeout=60)
    finally:
        standby.run("systemctl", "start", "postgresql@15-main")
        guide.wait_for("the standby streams again", lambda: standby_row(primary, "async"))
        documented.run(primary, "runbook", "standby-sync-on")
    guide.wait_for("synchronous again", lambda: standby_row(primary, "sync"))
    for host in (primary, standby):
        assert guide.failed_units(host) == "", f"{host.name}: {guide.failed_units(host)}"
    city.passed.add(STANDBY_STEP)


def the_standby_takes_over(city, primary, standby):
    """A change confirmed, the primary's PostgreSQL killed, the standby promoted by the
    runbook's command, and the same staff browser's next change served: the seconds from
    the kill to that page."""
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("tanaka")
        desk.change_status(STANDBY_RECEIPT, "reviewing", "スタンバイ試験: 確定")
        # The primary's database stops at once, as on a failed disk; the host stays up.
        failed = time.monotonic()
        primary.run("systemctl", "kill", "--signal=SIGKILL", "postgresql@15-main.service")
        guide.wait_for("the primary's database is down (and stays down: two primaries would "
                       "split the records)", lambda: primary.run(
                           "systemctl", "is-active", "postgresql@15-main.service",
                           check=False).stdout.strip() in ("failed", "inactive"))
        promoted = documented.run(standby, "runbook", "standby-promote").stdout
        assert promoted.rstrip().endswith("f"), promoted
        desk.change_status(STANDBY_RECEIPT, "inquiring", "スタンバイ試験: 昇格後")
        took = time.monotonic() - failed
    assert status_of(standby, STANDBY_RECEIPT) == "inquiring", "the change after the promotion"
    return took


def first_host_primary_again(primary, standby):
    """The runbook's way back from wherever the drill stopped. Promoted: the old primary
    back as the standby (base backup), the second host stopped, the first promoted, the
    second back as its standby, synchronous. Not promoted: the first host's database
    started again (the standby still follows it)."""
    if in_recovery(standby) != "f":
        primary.run("systemctl", "start", "postgresql@15-main")
        return
    documented.run(primary, "runbook", "standby-rejoin", NEW_PRIMARY=STANDBY,
                   explain=lambda: guide.unit_journals(primary))
    guide.wait_for("the old primary streams from the new", lambda: standby_row(standby, "async"))
    standby.run("systemctl", "stop", "postgresql@15-main")
    assert documented.run(primary, "runbook", "standby-promote").stdout.rstrip().endswith("f")
    documented.run(standby, "runbook", "standby-rejoin", NEW_PRIMARY=INTRANET,
                   explain=lambda: guide.unit_journals(standby))
    guide.wait_for("the first host is the primary again, synchronous",
                   lambda: standby_row(primary, "sync"))


def in_recovery(host):
    """'t' (a standby), 'f' (a primary) or '' (its database does not answer)."""
    return host.run("runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-c",
                    "SELECT pg_is_in_recovery()", check=False).stdout.strip()


def standby_row(host, sync_state):
    """The runbook's state check on ``host``: the line of a standby streaming as asked, or ''."""
    shown = documented.run(host, "runbook", "standby-state").stdout
    return next((line for line in shown.splitlines()
                 if "streaming" in line and f" {sync_state} " in f"{line} "), "")


def status_of(host, receipt):
    number = receipt.replace("-", "")
    query = f"SELECT status_code FROM applications WHERE receipt_number_normalised = '{number}'"  # noqa: S608
    return host.run("runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-d", "shinsei", "-c",
                    query).stdout.strip()


def test_the_signing_key_is_rotated(city):
    """§ 鍵の生成・配布・更新: the next signing key beside the old one, one publication signed by
    both and accepted; the old key out of the public hosts' trust (a file signed by it alone
    is refused), then out of the intranet: the next publication is the new key's alone, and
    the audit chain still verifies against every checkpoint, old key's and new key's."""
    lab, intranet = city.lab, city.lab.intranet
    old_key = SigningKey(serialization.load_pem_private_key(
        intranet.read("/etc/shinsei/signer/sign.key"), password=None))
    documented.run(intranet, "runbook", "rotate-signing-key-new")
    new_id = key_id(serialization.load_pem_public_key(
        intranet.read("/etc/shinsei/signer/sign-next.key.pub")))
    for host in lab.public:
        guide.carry_file(intranet, f"{MEDIUM}/intranet-sign-next.pub", host)
        documented.run(host, "runbook", "rotate-signing-key-trust-next")
    before = city.sequence("public-1")
    publish(city, "署名鍵の更新（新旧両方で署名）")
    both = city.wait_for_sequence(PUBLIC, before)["public-1"]
    for host in lab.public:
        status = documented.run(host, "runbook", "mirror-status").stdout
        assert f"signed by {', '.join(sorted([old_key.key_id, new_id]))};" in status, status
        documented.run(host, "runbook", "rotate-signing-key-drop-old")
    # Signed by the old key alone, with a newer sequence: refused, the live one stays.
    signed = intranet.read(f"{SIGNED}/snapshot-{both}.bin")
    drop(lab.public[0], "snapshot-old-key.bin", signed_again(signed, old_key, both + 1))
    refusal = wait_for_refusal(lab.public[0], "snapshot-old-key.bin")
    assert "SignatureRejected" in refusal, refusal
    assert city.sequence("public-1") == both
    documented.run(intranet, "runbook", "rotate-signing-key-finish")
    publish(city, "署名鍵の更新（新しい鍵だけ）")
    city.wait_for_sequence(PUBLIC, both)
    for host in lab.public:
        status = documented.run(host, "runbook", "mirror-status").stdout
        assert f"signed by {new_id};" in status, status
    verified = documented.run(intranet, "runbook", "audit-verify").stdout
    assert "audit chain OK" in verified, verified
    assert guide.failed_units(intranet) == ""
    city.passed.add(SIGNING_KEY)


def test_the_lookup_key_is_rotated(city):
    """§ 鍵の生成・配布・更新: the next lookup key carried beside the old one, the builder moved
    to it, one publication; residents find their status before, during and after, and the
    old key is retired on each public host."""
    city.needs(SIGNING_KEY)
    lab, intranet = city.lab, city.lab.intranet
    expected = residents_read(city)
    assert set(expected.values()) == {READS["ja"][0]}, expected
    made = documented.run(intranet, "runbook", "rotate-lookup-key-new").stdout
    new_lookup_id = made.split("key id ")[-1].split()[0]
    for host in lab.public:
        guide.carry_file(intranet, f"{MEDIUM}/lookup-next.key", host)
        documented.run(host, "runbook", "rotate-lookup-key-carry")
    last = lab.public[-1]
    documented.run(last, "runbook", "rotate-lookup-key-wipe")
    assert last.run("test", "-e", f"{MEDIUM}/lookup-next.key", check=False).returncode == 1
    assert residents_read(city) == expected
    documented.run(intranet, "runbook", "rotate-lookup-key-use")
    before = city.sequence("public-1")
    publish(city, "照会鍵の更新")
    city.wait_for_sequence(PUBLIC, before)
    for host in lab.public:
        status = documented.run(host, "runbook", "mirror-status").stdout
        assert f"lookup key {new_lookup_id}" in status, status
    assert residents_read(city) == expected
    for host in lab.public:
        documented.run(host, "runbook", "rotate-lookup-key-retire")
        assert host.run("ls", "-A", "/etc/shinsei/lookup-keys").stdout.strip() == ""
    assert residents_read(city) == expected
    for host in lab.public:
        host.run("systemctl", "restart", "shinsei-mirror-web.service")  # the old key forgotten
    guide.wait_for("both pages answer after the restart",
                   lambda: all(front_page(city, name)[0] == "200" for name in PUBLIC))
    assert residents_read(city) == expected
    city.passed.add(LOOKUP_KEY)


def test_a_leaked_signing_key(city):
    """§ 鍵が漏えいしたとき: a thief's snapshot, signed with the leaked key and numbered far
    ahead, is live on public-1; the documented procedure closes the page, replaces the key,
    puts public-1 back to the last good sequence (the forged one set aside, a second one
    waiting in its inbox refused), and the next publication reopens both hosts."""
    city.needs(SIGNING_KEY)
    lab, intranet = city.lab, city.lab.intranet
    leaked = SigningKey(serialization.load_pem_private_key(
        intranet.read("/etc/shinsei/signer/sign.key"), password=None))
    good = city.sequence("public-1")
    assert good == city.sequence("public-2")
    expected = residents_read(city)
    current = intranet.read(f"{SIGNED}/snapshot-{good}.bin")
    drop(lab.public[0], "snapshot-thief.bin", signed_again(current, leaked, good + 2 * 86400))
    city.wait_for_sequence(["public-1"], good)                 # the forgery is live
    for host in lab.public:
        documented.run(host, "runbook", "leak-close")
    for name in PUBLIC:
        guide.wait_for(f"{name}'s page is closed for maintenance",
                       lambda name=name: front_page(city, name)[0] == "503")
    # Another forgery arrives meanwhile: it waits in the inbox, nothing is received.
    drop(lab.public[0], "snapshot-thief-2.bin", signed_again(current, leaked, good + 3 * 86400))
    documented.run(intranet, "runbook", "leak-new-key")
    for host in lab.public:
        guide.carry_file(intranet, f"{MEDIUM}/intranet-sign.pub", host)
        documented.run(host, "runbook", "leak-recover", LAST_GOOD_SEQUENCE=str(good))
    refusal = wait_for_refusal(lab.public[0], "snapshot-thief-2.bin")
    assert "SignatureRejected" in refusal, refusal
    # recover set the forgery aside: public-1 answers from nothing until the next publication.
    quarantined = lab.public[0].run("ls", "/var/lib/shinsei-mirror/quarantine").stdout
    assert "-active.snapshot" in quarantined, quarantined
    publish(city, "漏えい後の公開（新しい鍵）")
    after = city.wait_for_sequence(PUBLIC, good)
    assert after["public-1"] == after["public-2"] < good + 86400
    for name, host in zip(PUBLIC, lab.public, strict=True):
        reopened = documented.run(host, "runbook", "leak-reopen").stdout
        assert f"active snapshot: sequence {after['public-1']}" in reopened, reopened
        assert "maintenance: ON" in reopened, reopened     # status ran before the rm
        guide.wait_for(f"{name}'s page answers again", lambda name=name: front_page(city, name)[0] == "200")
    assert residents_read(city) == expected
    verified = documented.run(intranet, "runbook", "audit-verify").stdout
    assert "audit chain OK" in verified, verified
    city.passed.add(LEAK)


def back_before_the_disposal(city, host):
    """The running host back to the set taken before step 5's disposal, and the disposal
    carried out again from the record the city kept, as the runbook says."""
    city.needs(DISPOSAL)
    folder = f"{MEDIUM}/{city.set_before_disposal}"
    kept = json.loads(host.read(f"{folder}/manifest.json"))["checkpoints"]["count"]
    restored = documented.run(host, "runbook", "restore-earlier-set", SET=folder,
                              explain=lambda: guide.unit_journals(host)).stdout
    assert f"署名付きチェックポイント {kept} 件すべてと一致します" in restored, restored
    assert "disposal reapply" in restored, restored          # it reminds the operator
    held = traces(host)
    assert all(held.values()), f"the set taken before the disposal should name them: {held}"
    name, data = city.disposal_record
    record = host.write(f"{MEDIUM}/{name}", data, 0o600)       # carried from the ledger
    reapplied = documented.run(host, "runbook", "disposal-reapply", DISPOSAL_RECORD=record).stdout
    assert f"disposal re-applied to {DISPOSED}: {len(LEAVERS)} applications erased" in reapplied, \
        reapplied
    left = traces(host)
    assert not any(left.values()), f"rows naming the applicants after the re-application: {left}"
    documented.run(host, "runbook", "disposal-vacuum")
    verified = documented.run(host, "runbook", "audit-verify").stdout
    assert "audit chain OK" in verified, verified
    shown = audit_screen(city, "disposal.reapply")
    assert len(shown) == 1 and "廃棄のやり直し（バックアップ復元後）" in shown[0], shown


def traces(host):
    """Table → how many of its rows name one of step 5's applicants (number or name)."""
    where = " OR ".join(f"t::text LIKE '%{trace}%'" for trace in TRACES)
    # Tables and traces are this file's constants: no input reaches the query.
    query = " UNION ALL ".join(f"SELECT '{table}', count(*) FROM {table} t WHERE {where}"  # noqa: S608
                               for table in ERASED_FROM)
    out = host.run("runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                   "-d", "shinsei", "-tA", "-F", " ", "-c", query).stdout
    return {table: int(count) for table, count in (line.split() for line in out.splitlines())}


def dumped_traces(host) -> list[str]:
    """Which of step 5's applicants' numbers and names a plain dump of the whole database
    (every table, the audit chain's included) still holds."""
    dumped = host.run("runuser", "-u", "postgres", "--", "pg_dump", "-d", "shinsei").stdout
    return [trace for trace in TRACES if trace in dumped]


def audit_csv_traces(city) -> list[str]:
    """Which of them the security officer's /audit.csv (every record) still holds."""
    with city.staff() as browser:
        page = StaffDesk(browser, STAFF_SITE).sign_in("kansa")
        # Fetched by the page itself: only the browser resolves the staff site's name.
        status, body = page.evaluate(
            "async () => { const r = await fetch('/audit.csv');"
            " return [r.status, await r.text()]; }")
    assert status == 200, (status, body[:300])
    return [trace for trace in TRACES if trace in body]


def audit_screen(city, action):
    """The security officer's audit log, filtered to `action`: its rows as the screen reads."""
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        page = desk.sign_in("kansa")
        page.goto(f"/audit?action={action}")
        rows = page.locator("table.audit tbody tr")
        return [rows.nth(i).inner_text() for i in range(rows.count())]


def watch_state(host):
    """(ActiveState, Result) of the inbox watch: a start limit hit shows as failed."""
    shown = host.run("systemctl", "show", "-p", "ActiveState", "-p", "Result", WATCH).stdout
    values = dict(line.split("=", 1) for line in shown.split())
    return values["ActiveState"], values["Result"]


def watch_started(host):
    return guide.unit_property(host, WATCH, "ActiveEnterTimestampMonotonic")


def receiver_journal(host):
    return host.run("journalctl", "-b", "--no-pager", "-o", "cat", "-u",
                    "shinsei-mirror-receive.service", "-u", WATCH).stdout


def request_and_approve(city, note):
    """A publication through four eyes, and the job run as its timer would (its result is
    returned, not judged: a host may be down)."""
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("tanaka")
        number = desk.request_publication(note)
        desk.sign_in("sato")
        desk.approve_publication(number)
        return city.run_transfer_job()


def staff_publications(city):
    with city.staff() as browser:
        desk = StaffDesk(browser, STAFF_SITE)
        desk.sign_in("sato")
        return desk.publications()


def residents_read(city):
    """What a resident reads for 1234-5678 on each public host."""
    read = {}
    for name in PUBLIC:
        with city.resident(name) as browser:
            status, _as_of, page = resident_reads(browser, SITE, PROGRAMME, "1234-5678", "ja")
            read[name] = status or page[:300]
    return read


def signed_again(data: bytes, key: SigningKey, sequence: int) -> bytes:
    """The same table under a newer sequence, signed with `key` alone: what someone holding
    that key (and no other) could make."""
    snapshot = parse(data)
    header = {**snapshot.header, "sequence": sequence}
    return sign_body(bytes(snapshot.body), header["entry_count"], 0, signing_keys=[key],
                     header=header).data


def drop(host, name, data):
    """A file arriving in a public host's inbox (complete, under its final name at once).
    Written beside the inbox and moved in: one event for the watch. Written inside, the
    write would start the receiver, the watch rests while it runs, and the move's event
    could be missed until the ten-minute sweep."""
    staged = f"{PurePosixPath(INBOX).parent}/.{name}.drop"
    host.write(staged, data, 0o644)
    host.run("mv", staged, f"{INBOX}/{name}")


def wait_for_refusal(host, name):
    def refused():
        status = host.run("runuser", "-u", "shinsei-mirror", "--", "shinsei-mirror", "status",
                          check=False).stdout
        line = next((text for text in status.splitlines()
                     if text.startswith("last rejection")), "")
        return line if name in line else ""
    return guide.wait_for(f"{host.name} refuses {name}", refused, timeout=120)


def front_page(city, name):
    """(HTTP status, body) of the residents' page at public host `name`, as a resident's
    browser would get it."""
    result = city.lab.resident.run(
        "curl", "-sS", "--max-time", "10", "--cacert", str(city.ca.path), "--resolve",
        f"{guide.PUBLIC_NAME}:443:{PUBLIC[name][1]}", "-w", "\n%{http_code}",
        f"https://{guide.PUBLIC_NAME}/", check=False)
    body, _, status = result.stdout.rpartition("\n")
    return status, body
