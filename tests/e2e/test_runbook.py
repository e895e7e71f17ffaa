"""The days after the first: the runbook's procedures run on booted hosts exactly as
docs/runbook.*.md writes them (tests/e2e/documented.py takes each command from the document).

The steps follow the runbook's table of contents: each step's docstring opens with `§` and
the heading it proves, in the runbook's order (tests/unit/test_documented_commands.py holds
them to it). A step that fails names itself; the steps after it say which one they needed.
"""

import re

import pytest

from tests.e2e import city as guide
from tests.e2e import documented
from tests.e2e.conftest import PUBLIC
from tests.e2e.scenario import INBOX, first_publication, install_every_host, open_city, publish

MIRROR_STATE = "/var/lib/shinsei-mirror/state"


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


def test_3_a_public_host_whose_disk_is_full(city):
    """§ 公開ホストのディスクが一杯になったとき: public-2's inbox is its own small file system,
    filled by an upload cut off two hours ago; the publication fails for it alone and says why;
    the documented clean-up and a plain run of the transfer job (no new approval) deliver it."""
    host = city.lab.public[1]
    before = {name: city.sequence(name) for name in PUBLIC}
    owner = host.run("stat", "-c", "%u:%g", INBOX).stdout.strip()
    uid, gid = owner.split(":")
    host.run("mount", "-t", "tmpfs", "-o", f"size=256k,mode=2770,uid={uid},gid={gid}", "tmpfs", INBOX)
    try:
        host.run("sh", "-c", f"head -c 1M /dev/zero > {INBOX}/.cut-off.part; "
                 f"touch -d '-2 hours' {INBOX}/.cut-off.part", check=False)
        newest = publish(city, "容量不足のホストあり")
        assert re.search(rf"{re.escape(PUBLIC['public-2'][0])}\S*:\s+転送できませんでした", newest), newest
        assert "空き容量が足りませんでした" in newest, newest
        delivered = city.wait_for_sequence(["public-1"], before["public-1"])["public-1"]
        assert city.sequence("public-2") == before["public-2"]
        looked = documented.run(host, "runbook", "disk-full-look").stdout
        assert ".cut-off.part" in looked and "100%" in looked, looked
        documented.run(host, "runbook", "disk-full-clear")
        job = documented.run(city.lab.intranet, "runbook", "resend-after-disk-full", check=False)
        assert job.returncode == 0, job.stdout + job.stderr
        assert city.wait_for_sequence(["public-2"], before["public-2"])["public-2"] == delivered
    finally:
        host.run("umount", INBOX, check=False)
    city.passed.add(3)


def test_4_audit_records_past_retention_are_archived(city):
    """§ 保存期間: the monthly retention run, started now as the runbook says."""
    pruned = documented.run(city.lab.intranet, "runbook", "audit-prune-now")
    assert "audit-" in pruned.stdout and guide.failed_units(city.lab.intranet) == "", pruned.stdout
    verified = documented.run(city.lab.intranet, "runbook", "audit-verify")
    assert "audit chain OK" in verified.stdout
    city.passed.add(4)


def test_5_the_database_is_rewritten_after_a_disposal(city):
    """§ 事業の終了・保存・廃棄: the housekeeping after a disposal runs on the deployed database."""
    vacuumed = documented.run(city.lab.intranet, "runbook", "disposal-vacuum")
    assert vacuumed.returncode == 0
    assert guide.failed_units(city.lab.intranet) == ""
    city.passed.add(5)

