"""The days after the first: the runbook's procedures run on booted hosts exactly as
docs/runbook.*.md writes them (tests/e2e/documented.py takes each command from the document).

The steps follow the runbook's table of contents: each step's docstring opens with `§` and
the heading it proves, in the runbook's order (tests/unit/test_documented_commands.py holds
them to it). A step that fails names itself; the steps after it say which one they needed.
"""

import pytest

from tests.e2e import city as guide
from tests.e2e import documented
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

