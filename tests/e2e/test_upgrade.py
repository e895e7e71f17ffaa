"""An upgrade as the guide says it (docs/install.*.md §8), on booted hosts: a city runs a bundle
built from an older commit of this project (tests/e2e/older.py), with data and a publication;
the intranet host is upgraded first to the current bundle, a publication reaches the still
older public hosts, then each public host is upgraded in turn while the other answers
residents; the version shown changes, the schema is at the new head, the audit chain holds,
residents read their status, and a new publication reaches both hosts. Before that, an upgrade
whose migration fails is put back, and the older version serves again.

Each step records how long it took (printed at the end: `pytest -s`).
"""

import json
import time

import pytest

from tests.e2e import city as guide
from tests.e2e import documented
from tests.e2e.conftest import INTRANET, PUBLIC, build_lab
from tests.e2e.older import OLDER_COMMIT, older_bundle
from tests.e2e.people import READS, healthz, resident_reads
from tests.e2e.scenario import (
    PROGRAMME,
    SITE,
    STAFF_SITE,
    City,
    first_publication,
    install_every_host,
    publish,
)
from tests.e2e.tls import LabCA

RECEIPT = "1234-5678"
INSTALLED_VERSION = ("/opt/shinsei/venv/bin/python -c "
                     "\"import importlib.metadata as m; print(m.version('shinsei-status'))\"")


class Upgrade(City):
    """The city on the older bundle, and the current bundle it upgrades to."""

    def __init__(self, lab, ca, older, current):
        super().__init__(lab, ca, older)
        self.current = current
        self.timings: dict[str, float] = {}
        self.old_version = ""

    def timed(self, what, action):
        began = time.monotonic()
        try:
            return action()
        finally:
            self.timings[what] = time.monotonic() - began

    def carry_new_bundle(self, host):
        """§8 starts as §1: the new bundle carried in, its digest compared, unpacked, checked."""
        new = self.current
        host.write(f"/root/{new.bundle.name}", new.bundle.read_bytes(), 0o644)
        checked = documented.run(host, "install", "bundle-check", VERSION=new.version)
        assert new.version in checked.stdout, checked.stdout

    def intranet_health(self):
        """The staff app's /healthz, asked on the intranet host itself."""
        answer = self.lab.intranet.run("curl", "-sS", "--max-time", "10", "-H", "Host: localhost",
                                       "http://127.0.0.1:6543/healthz", check=False).stdout
        try:
            return json.loads(answer)
        except ValueError:
            return {"unreadable": answer[:300]}

    def public_health(self, name):
        return healthz(self.lab.resident, guide.PUBLIC_NAME, PUBLIC[name][1], self.ca.path)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    older = older_bundle()
    current = guide.bundle()
    workdir = tmp_path_factory.mktemp("upgrade")
    lab = build_lab(workdir / "lab")
    try:
        for host in (lab.intranet, *lab.public):
            host.boot()
        ca = LabCA(workdir / "ca")
        city = Upgrade(lab, ca, guide.Installation(older, ca), guide.Installation(current, ca))
        assert city.installation.version != city.current.version, (
            f"the bundle of {OLDER_COMMIT} and the current one have the same version")
        yield city
        print("\nupgrade timings (s): " + ", ".join(f"{what} {seconds:.0f}"
                                                    for what, seconds in city.timings.items()))
    finally:
        lab.close()


# The settings the older bundle wrote in an earlier shape, as the runbook needs them after
# an upgrade (tools/shinsei_installer/forward.py; tests/unit/installer/test_settings_forward.py).
SETTINGS = {
    "intranet": {"signer.ini": "transfer.signing_keys = /etc/shinsei/signer\n",
                 "pusher.ini": "transfer.public_keys = /etc/shinsei/pusher/trusted\n",
                 "intranet.ini": f"backup.host_files = {guide.TLS_CERT} {guide.TLS_KEY}\n"},
    "public": {"mirror.ini": "mirror.lookup_key = /etc/shinsei/lookup.key /etc/shinsei/lookup-keys\n"},
}


def settings_brought_forward(host, role):
    """Each file in today's shape, its old content kept beside it."""
    for name, line in SETTINGS[role].items():
        text = host.read(f"/etc/shinsei/{name}").decode()
        assert line in text, f"{host.name}: {name}:\n{text}"
        kept = host.sh(f"ls /etc/shinsei/{name}.bak-*").stdout.split()
        assert len(kept) == 1, (host.name, kept)
    if role == "public":
        assert "mirror.maintenance_file = /etc/shinsei/maintenance" in text, text


def test_1_the_older_version_runs_with_data_and_a_publication(city, tmp_path):
    city.timed("install older", lambda: install_every_host(city, older=True))
    city.timed("first publication", lambda: first_publication(city, tmp_path))
    city.old_version = city.lab.intranet.sh(INSTALLED_VERSION).stdout.strip()
    assert city.old_version == city.installation.version, city.old_version
    # The older build has no --version at all: nothing to confuse with the new one.
    assert city.current.version not in city.lab.intranet.run(
        "shinsei-intranet", "--version", check=False).stdout
    city.passed.add(1)


# A relation by the name of the index the new version's migration 0012 creates: the migration
# fails on it, as a migration meeting something unexpected in a city's database would.
OBSTACLE = "ix_audit_records_at_seq"


def test_2_a_migration_that_fails_leaves_the_older_version_serving(city):
    """The guide's upgrade command meets a failing migration: the link, the files and the
    database go back, the older version serves staff again, and it says so (exit 3)."""
    city.needs(1)
    host, new = city.lab.intranet, city.current
    city.carry_new_bundle(host)
    preview = documented.run(host, "install", "upgrade-preview", cwd=new.unpacked,
                             check=False, ROLE="intranet")
    assert preview.returncode == 1 and "Traceback" not in preview.stderr, preview.stdout + preview.stderr
    assert f"版上げ: {city.old_version} → {new.version}" in preview.stdout, preview.stdout
    # The older bundle's key settings name one file: --check says they are in an old shape.
    for old_shape in ("transfer.signing_keys = /etc/shinsei/signer/sign.key を /etc/shinsei/signer",
                      "transfer.public_keys = /etc/shinsei/pusher/sign.key.pub を "
                      "/etc/shinsei/pusher/trusted", "backup.host_files がありません"):
        assert old_shape in preview.stdout, preview.stdout
    older_settings = {name: host.read(f"/etc/shinsei/{name}") for name in SETTINGS["intranet"]}
    psql = ("runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
            "shinsei", "-c")
    host.run(*psql, f"CREATE TABLE {OBSTACLE} (x integer)")
    failed = city.timed("failed upgrade and rollback", lambda: documented.run(
        host, "install", "upgrade-intranet", cwd=new.unpacked, check=False))
    said = failed.stdout + failed.stderr
    assert failed.returncode == 3, said[-3000:]
    assert "に失敗したため、元に戻しました" in said and "失敗したこと:" in said, said[-3000:]
    assert "データベースをバックアップ /var/backups/shinsei/" in said, said[-3000:]
    assert "Traceback" not in said, said[-3000:]
    assert host.sh(INSTALLED_VERSION).stdout.strip() == city.old_version
    assert host.run("readlink", "-f", "/opt/shinsei/venv").stdout.strip() == \
        f"/opt/shinsei/venvs/{city.old_version}"
    guide.wait_for("the older staff app answers again", lambda: host.run(
        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: localhost",
        "http://127.0.0.1:6543/login", check=False).stdout == "200")
    verified = documented.run(host, "install", "audit-verify")
    assert "audit chain OK" in verified.stdout, verified.stdout
    assert guide.failed_units(host) == "", guide.failed_units(host)
    # The settings brought forward were put back with the rest.
    assert {name: host.read(f"/etc/shinsei/{name}") for name in SETTINGS["intranet"]} == \
        older_settings
    host.run(*psql, f"DROP TABLE {OBSTACLE}")
    city.passed.add(2)


def test_3_the_intranet_host_first_and_older_public_hosts_take_its_snapshot(city):
    city.needs(2)
    host, new = city.lab.intranet, city.current
    upgraded = city.timed("upgrade intranet", lambda: documented.run(
        host, "install", "upgrade-intranet", cwd=new.unpacked, explain=lambda: guide.unit_journals(host)))
    assert upgraded.stdout.strip().endswith(f"shinsei-intranet {new.version}"), upgraded.stdout
    assert f"確認: {new.version} が動いています" in upgraded.stdout, upgraded.stdout
    # Version shown: the app, the staff pages' footer (what the staff terminal gets).
    health = city.intranet_health()
    assert health.get("status") == "ok" and health.get("version") == new.version, health
    assert health["schema"] == health["schema_head"], health
    login = city.lab.staff.run("curl", "-sS", "--max-time", "10", "--cacert", str(city.ca.path),
                               "--resolve", f"{guide.INTRANET_NAME}:443:{INTRANET}",
                               f"{STAFF_SITE}/login").stdout
    assert f"shinsei-status {new.version}" in login, login[-800:]
    verified = documented.run(host, "install", "audit-verify")
    assert "audit chain OK" in verified.stdout, verified.stdout
    assert guide.failed_units(host) == "", guide.failed_units(host)
    # The old venv kept for a way back, and the link switched to the new one.
    assert host.run("readlink", "/opt/shinsei/venv").stdout.strip() == f"venvs/{new.version}"
    settings_brought_forward(host, "intranet")
    # The next backup set carries the TLS certificate and key (backup.host_files).
    host.run("systemctl", "start", "shinsei-backup.service")
    newest = json.loads(host.run("shinsei-intranet", "-c", "/etc/shinsei/intranet.ini", "backup",
                                 "status").stdout)["last_set"]
    assert host.run("test", "-s", f"{newest}/host-files.tar", check=False).returncode == 0, newest
    assert host.sh("/opt/shinsei/venv.previous/bin/python -c "
                   "\"import importlib.metadata as m; print(m.version('shinsei-status'))\""
                   ).stdout.strip() == city.old_version
    # The public hosts still run the older version, and accept the newer intranet's snapshot.
    before = min(city.sequence(name) for name in PUBLIC)
    publish(city, "庁内ホストの版上げ後")
    city.wait_for_sequence(PUBLIC, before)
    for name in PUBLIC:
        assert "version" not in city.public_health(name), name
    city.passed.add(3)


def test_4_each_public_host_in_turn_while_the_other_answers(city):
    city.needs(3)
    new = city.current
    sequences = {name: city.sequence(name) for name in PUBLIC}
    for name, host in zip(PUBLIC, city.lab.public, strict=True):
        city.carry_new_bundle(host)
        preview = documented.run(host, "install", "upgrade-preview", cwd=new.unpacked,
                                 check=False, ROLE="public")
        assert f"版上げ: {city.old_version} → {new.version}" in preview.stdout, preview.stdout
        upgraded = city.timed(f"upgrade {name}", lambda host=host: documented.run(
            host, "install", "upgrade-public", cwd=new.unpacked,
            explain=lambda: guide.unit_journals(host)))
        assert upgraded.stdout.strip().endswith(f"shinsei-mirror {new.version}"), upgraded.stdout
        health = city.public_health(name)
        assert health.get("version") == new.version and health.get("status") == "ok", health
        assert health["sequence"] == sequences[name], health
        assert guide.failed_units(host) == "", guide.failed_units(host)
        settings_brought_forward(host, "public")
        # Residents read their status on both hosts, upgraded or not yet.
        for each in PUBLIC:
            with city.resident(each) as browser:
                status, _, page = resident_reads(browser, SITE, PROGRAMME, RECEIPT, "ja")
                assert status == READS["ja"][0], f"{each} after upgrading {name}: {page[:500]}"
    city.passed.add(4)


def test_5_a_new_publication_reaches_both_upgraded_public_hosts(city):
    city.needs(4)
    before = max(city.sequence(name) for name in PUBLIC)
    publish(city, "すべて版上げ後")
    after = city.wait_for_sequence(PUBLIC, before)
    assert len(set(after.values())) == 1, after
    for name in PUBLIC:
        with city.resident(name) as browser:
            for lang, (label, as_of_words) in READS.items():
                status, as_of, page = resident_reads(browser, SITE, PROGRAMME, RECEIPT, lang)
                assert status == label and as_of_words in as_of, f"{name} {lang}: {page[:500]}"
    verified = documented.run(city.lab.intranet, "install", "audit-verify")
    assert "audit chain OK" in verified.stdout, verified.stdout
    for host in (city.lab.intranet, *city.lab.public):
        assert guide.failed_units(host) == "", f"{host.name}: {guide.failed_units(host)}"
        # Only the version in use and the one before it are kept.
        kept = host.run("ls", "/opt/shinsei/venvs").stdout.split()
        assert sorted(kept) == sorted([city.old_version, city.current.version]), (host.name, kept)
    city.passed.add(5)
