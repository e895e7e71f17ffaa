"""The days after the first: the runbook's procedures run on booted hosts exactly as
docs/runbook.*.md writes them (tests/e2e/documented.py takes each command from the document).

The steps follow the runbook's table of contents: each step's docstring opens with `§` and
the heading it proves, in the runbook's order (tests/unit/test_documented_commands.py holds
them to it). A step that fails names itself; the steps after it say which one they needed.
"""

import json
from pathlib import PurePosixPath

import pytest

from tests.e2e import city as guide
from tests.e2e import documented
from tests.e2e.city import MEDIUM
from tests.e2e.conftest import PUBLIC, add_intranet
from tests.e2e.scenario import (
    INBOX,
    first_publication,
    install_every_host,
    open_city,
    publish,
    staff_app_state,
    staff_reach,
)

MIRROR_STATE = "/var/lib/shinsei-mirror/state"
CHECKPOINTS = "/var/lib/shinsei-transfer/checkpoints/audit-checkpoints.jsonl"


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
    city.passed.add(1)


def test_2_a_receiver_that_stopped_is_recovered(city):
    """§ 受信が止まったとき: a cut activation log stops public-1's receiver (public-2 goes on);
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
    recovered = documented.run(host, "runbook", "receiver-recover").stdout
    assert "recovered: last accepted sequence" in recovered, recovered
    assert city.wait_for_sequence(["public-1"], before)["public-1"] == newest
    assert guide.failed_units(host) == ""
    city.passed.add(2)


def test_3_audit_records_past_retention_are_archived(city):
    """§ 保存期間: the monthly retention run, started now as the runbook says."""
    pruned = documented.run(city.lab.intranet, "runbook", "audit-prune-now")
    assert "audit-" in pruned.stdout and guide.failed_units(city.lab.intranet) == "", pruned.stdout
    verified = documented.run(city.lab.intranet, "runbook", "audit-verify")
    assert "audit chain OK" in verified.stdout
    city.passed.add(3)


def test_4_the_database_is_rewritten_after_a_disposal(city):
    """§ 事業の終了・保存・廃棄: the housekeeping after a disposal runs on the deployed database."""
    vacuumed = documented.run(city.lab.intranet, "runbook", "disposal-vacuum")
    assert vacuumed.returncode == 0
    assert guide.failed_units(city.lab.intranet) == ""
    city.passed.add(4)



def test_5_a_backup_set_restored_on_a_fresh_intranet_host(city):
    """§ バックアップと復元: the set the unit makes (checked, private, with the public hosts'
    keys and every signed checkpoint), copied to the medium, restored onto a fresh intranet
    host from that set alone with the runbook's commands; the audit chain agrees with every
    signed checkpoint, and a publication reaches both public hosts."""
    lab, install = city.lab, city.installation
    old = lab.intranet
    assert old.run("systemctl", "is-enabled", "shinsei-backup.timer").stdout.strip() == "enabled"
    # A run that cannot make a good set is a failed unit, and `backup status` says why.
    old.run("mv", CHECKPOINTS, f"{CHECKPOINTS}.away")
    try:
        assert old.run("systemctl", "start", "shinsei-backup.service", check=False).returncode != 0
        assert "shinsei-backup.service" in guide.failed_units(old)
        journal = old.run("journalctl", "-b", "--no-pager", "-u", "shinsei-backup.service").stdout
        assert f"バックアップに失敗しました: {CHECKPOINTS}" in journal, journal[-1500:]
        status = old.run("shinsei-intranet", "-c", "/etc/shinsei/intranet.ini", "backup", "status",
                         check=False)
        assert status.returncode == 1 and json.loads(status.stdout)["status"] == "failed", status.stdout
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
    # The medium goes to the new host; the old one is gone for good.
    medium = old.run("tar", "-C", MEDIUM, "-cf", "-", name, text=False).stdout
    before = city.sequence("public-1")
    lab.retire(old)
    fresh = lab.intranet = add_intranet(lab, "intranet-new")
    fresh.boot()
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
    newest = publish(city, "復元後の公開")
    assert newest.count("転送済") == len(PUBLIC), newest
    after = city.wait_for_sequence(PUBLIC, before)
    assert min(after.values()) > before
    for host in lab.public:
        status = documented.run(host, "runbook", "mirror-status").stdout
        assert f"active snapshot: sequence {after[host.name]}" in status, status
    assert guide.failed_units(fresh) == ""
    city.passed.add(5)
