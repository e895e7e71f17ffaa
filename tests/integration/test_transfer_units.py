"""The shipped units of the publication's steps: three identities, what each may reach, the
chain between them, and systemd's own exposure figure for each (docs/security-review.md).

What the units promise is performed on booted hosts by tests/e2e; here their text is held to
the split, so a later edit cannot quietly give the pusher a Unix socket or the builder an IP."""

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
BUILD, SIGN, PUSH, RECORD = ("shinsei-transfer-build.service", "shinsei-transfer-sign.service",
                             "shinsei-transfer-push.service", "shinsei-transfer.service")
PREPARE = "shinsei-transfer-prepare.service"


def settings(unit):
    values: dict[str, list[str]] = {}
    for line in (SYSTEMD / unit).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values.setdefault(name, []).append(value)
    return values


def paths(unit, setting):
    return {p.lstrip("-") for value in settings(unit).get(setting, []) for p in value.split()}


def test_three_identities():
    users = {unit: settings(unit)["User"] for unit in (BUILD, SIGN, PUSH, RECORD)}
    assert users == {BUILD: ["shinsei-builder"], SIGN: ["shinsei-signer"],
                     PUSH: ["shinsei-pusher"], RECORD: ["shinsei-builder"]}


@pytest.mark.parametrize("unit", [BUILD, PREPARE, SIGN, RECORD])
def test_no_network_for_the_builder_the_signer_and_the_recorder(unit):
    values = settings(unit)
    assert values["PrivateNetwork"] == ["yes"] and values["IPAddressDeny"] == ["any"]
    assert values["RestrictAddressFamilies"] == ["AF_UNIX"]
    assert "IPAddressAllow" not in values


def test_the_pusher_reaches_ip_only_and_nothing_of_the_intranet():
    values = settings(PUSH)
    assert values["RestrictAddressFamilies"] == ["AF_INET AF_INET6"]   # no Unix socket at all
    assert values["IPAddressDeny"] == ["any"] and "IPAddressAllow" not in values  # drop-in only
    assert paths(PUSH, "ReadWritePaths") == {"/var/spool/shinsei/transfer/results"}
    hidden = paths(PUSH, "InaccessiblePaths")
    assert {"/run/postgresql", "/etc/shinsei/signer", "/etc/shinsei/builder",
            "/etc/shinsei/intranet.ini", "/var/spool/shinsei/transfer/built"} <= hidden
    assert values["MemoryMax"] and values["TimeoutStartSec"]


def test_the_signer_cannot_reach_the_database_socket():
    assert "/run/postgresql" in paths(SIGN, "InaccessiblePaths")
    assert paths(SIGN, "ReadWritePaths") == {"/var/spool/shinsei/transfer/signed",
                                             "/var/lib/shinsei-transfer/checkpoints"}


def test_the_preparation_is_the_builder_in_the_builds_sandbox_and_no_step_of_the_run():
    """It must not cut a run in two (docs/performance.md): nothing pulls it into the chain,
    and it pulls nothing in; it is the build's user with the build's confinement."""
    prepare, build = settings(PREPARE), settings(BUILD)
    assert prepare["User"] == build["User"] == ["shinsei-builder"]
    for name in ("Requires", "Wants", "BindsTo", "PartOf"):
        assert all("shinsei-transfer" not in v for v in prepare.get(name, [])), name
    for unit in (BUILD, SIGN, PUSH, RECORD):
        assert PREPARE not in (SYSTEMD / unit).read_text(), unit
    assert "ExecStartPre" not in prepare          # it leaves the run's marks alone
    assert "ExecCondition" not in prepare         # and runs whether or not a run is going
    confinement = {k: v for k, v in build.items() if k not in (
        "Description", "ExecStart", "ExecStartPre", "ExecCondition", "After", "Wants")}
    assert {k: prepare.get(k) for k in confinement} == confinement
    path = (SYSTEMD / "shinsei-transfer-requested.path").read_text()
    assert "Unit=shinsei-transfer-prepare.service" in path
    assert "PathChanged=/var/lib/shinsei/prepare-requested" in path


def test_the_chain_build_sign_push_then_record():
    assert settings(SIGN)["Requires"] == ["shinsei-transfer-build.service"]
    assert settings(PUSH)["Requires"] == ["shinsei-transfer-sign.service"]
    # The recorder runs even when a step failed, to record why.
    assert settings(RECORD)["Wants"] == ["shinsei-transfer-push.service"]
    assert "Requires" not in settings(RECORD)
    assert "shinsei-transfer-push.service" in settings(RECORD)["After"][0]
    for name in ("shinsei-transfer.timer", "shinsei-transfer-approved.path"):
        text = (SYSTEMD / name).read_text()
        assert "Unit=shinsei-transfer.service" in text or name.endswith(".timer")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("unit", [BUILD, PREPARE, SIGN, PUSH, RECORD])
def test_exposure_as_recorded_in_the_security_review(unit):
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                             str(SYSTEMD / unit)], capture_output=True, text=True, check=False)
    figure = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert figure, result.stdout[-500:] + result.stderr
    review = (SYSTEMD.parents[1] / "docs" / "security-review.md").read_text()
    assert f"| `{unit}` | {figure.group(1)} |" in review, (unit, figure.group(1))


@pytest.mark.parametrize("step", ["signer", "pusher"])
def test_the_shipped_step_configurations_are_accepted_by_their_step(step, tmp_path):
    from transfer import step_config

    text = (SYSTEMD.parent / f"{step}.ini").read_text()
    filled = re.sub(r"@MUNICIPALITY_CODE@", "142158", text).replace("@ENVIRONMENT@", "prod")
    filled = filled.replace("@TRANSFER_DESTINATIONS@", "sftp://shinsei-upload@192.0.2.10:22/inbox")
    (tmp_path / f"{step}.ini").write_text(filled)
    read = step_config.read(tmp_path / f"{step}.ini", step, environ={})
    assert read["transfer.origin"] == "142158:prod"


APPROVED = "shinsei-transfer-approved.path"


def shell_of(unit, setting):
    """The one `+/bin/sh -c '…'` command of `setting` in `unit`: its script."""
    (value,) = settings(unit)[setting]
    found = re.fullmatch(r"\+/bin/sh -c '(.+)'", value)
    assert found, value
    return found.group(1)


def test_an_approval_during_a_run_leaves_the_mark_the_path_unit_waits_for():
    """The path unit's edge (the trigger file) rests while its run goes on; the level it also
    watches is the file the recorder leaves when the trigger is newer than the builder's
    start — one folder, one trigger file, named alike in the three units."""
    path = settings(APPROVED)
    (trigger,), (again,) = path["PathChanged"], path["PathExists"]
    folder = str(Path(again).parent)
    started = f"{folder}/started"
    stamp, check = shell_of(BUILD, "ExecStartPre"), shell_of(RECORD, "ExecStopPost")
    assert f"rm -f {again}" in stamp and f"touch {started}" in stamp
    assert f"{trigger} -nt {started}" in check and f"touch {again}" in check


@pytest.mark.parametrize("touched, marked", [
    ("before", False),      # the builder read after the approval: this run published it
    ("after", True),        # approved after the builder began: one more run
    ("never", False),       # no approval at all (the timer's run)
    ("no stamp", False),    # the builder never started: no run of its own to repeat
])
def test_the_mark_is_left_only_for_an_approval_after_the_builder_began(tmp_path, touched, marked):
    """The two scripts as the units run them (dash, coreutils' test), on a folder of the
    test's own: the trigger touched a moment before or after the stamp. A file's time moves
    by the kernel's tick (a few ms): a touch in the stamp's own tick is not newer, which is
    right — the builder reads what is approved half a second later, after its start."""
    path = settings(APPROVED)
    (trigger,), (again,) = path["PathChanged"], path["PathExists"]
    folder = str(Path(again).parent)
    here = {folder: str(tmp_path / "run"), trigger: str(tmp_path / "publish-requested")}

    def script(unit, setting):
        text = shell_of(unit, setting)
        for real, local in here.items():
            text = text.replace(real, local)
        return text

    Path(here[trigger]).touch()
    if touched == "after":
        subprocess.run(["/bin/sh", "-c", script(BUILD, "ExecStartPre")], check=True)
        time.sleep(0.05)
        Path(here[trigger]).touch()
    elif touched == "before":
        Path(here[trigger]).touch()
        subprocess.run(["/bin/sh", "-c", script(BUILD, "ExecStartPre")], check=True)
    elif touched == "never":
        subprocess.run(["/bin/sh", "-c", script(BUILD, "ExecStartPre")], check=True)
    subprocess.run(["/bin/sh", "-c", script(RECORD, "ExecStopPost")], check=True)
    assert (tmp_path / "run" / "again").exists() == marked
    if marked:      # the next run's builder takes the mark away before it reads
        subprocess.run(["/bin/sh", "-c", script(BUILD, "ExecStartPre")], check=True)
        assert not (tmp_path / "run" / "again").exists()


# --- a start that lands while a run is still going -----------------------------------------

STEPS_AFTER_BUILD = ("shinsei-transfer-sign.service", "shinsei-transfer-push.service", RECORD)


def condition(unit, folder):
    """The signer's or the pusher's ExecCondition= (a plain command) on `folder`."""
    (value,) = settings(unit)["ExecCondition"]
    return value.replace("/run/shinsei-publication", folder).split()


def build_condition(tmp_path, states):
    """The build's condition as the unit runs it, systemctl answering with `states` (sign,
    push, record): its exit status, its output and whether it left `again`."""
    fake = tmp_path / "systemctl"
    fake.write_text("#!/bin/sh\nprintf '" + "\\n".join(states) + "\\n'\n")
    fake.chmod(0o755)
    script = shell_of(BUILD, "ExecCondition").replace("$$", "$")
    for real, local in {"/usr/bin/systemctl": str(fake),
                        "/run/shinsei-publication": str(tmp_path / "run")}.items():
        script = script.replace(real, local)
    ran = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True)
    return ran.returncode, ran.stdout, (tmp_path / "run" / "again").exists()


def test_the_build_asks_systemd_about_every_later_step_of_the_run():
    (value,) = settings(BUILD)["ExecCondition"]
    assert all(unit in value for unit in STEPS_AFTER_BUILD)
    # The skip's mark is the level the approval's path unit watches: one more run.
    assert "/run/shinsei-publication/again" in value
    assert settings(APPROVED)["PathExists"] == ["/run/shinsei-publication/again"]


@pytest.mark.parametrize("states", [
    ("inactive", "inactive", "inactive"),     # a run of its own: its later steps wait
    ("failed", "inactive", "failed"),         # the last run failed: nothing goes on
])
def test_a_build_with_no_run_going_goes_ahead(tmp_path, states):
    assert build_condition(tmp_path, states) == (0, "", False)


@pytest.mark.parametrize("states", [
    ("activating", "inactive", "inactive"),   # the run's signer
    ("inactive", "activating", "inactive"),   # its pusher
    ("inactive", "inactive", "activating"),   # its recorder (the race seen on booted hosts)
    ("inactive", "inactive", "deactivating"),  # the recorder's end, `again` being decided
    ("inactive", "inactive", "reloading"),    # any state systemd may add: not idle, so wait
])
def test_a_build_while_a_later_step_runs_is_skipped_and_leaves_one_more_run(tmp_path, states):
    status, said, again = build_condition(tmp_path, states)
    assert (status, again) == (1, True)   # 1: skipped (not failed); the path unit's level set
    assert "still going" in said


def test_the_signer_and_the_pusher_each_run_once_per_build(tmp_path):
    """The two conditions and their stamps as the units run them, in the order systemd runs
    them: a run, then a start that lands during the next run's recorder (its build skipped:
    the signer and the pusher pulled in again must skip too), then the next real run."""
    folder = str(tmp_path / "run")

    def stamp(unit):                 # the step's start, as root would touch its stamp
        subprocess.run(["/bin/sh", "-c", shell_of(unit, "ExecStartPre").replace(
            "/run/shinsei-publication", folder)], check=True)

    def step(unit):
        ran = subprocess.run(condition(unit, folder), check=False)
        if ran.returncode == 0:
            stamp(unit)
        return ran.returncode == 0

    def build():
        (tmp_path / "run" / "started").touch()
        time.sleep(0.02)                 # a build takes longer than the kernel's tick

    # After a reboot /run is empty: a step started on its own is skipped (no build since)
    # and its stamp makes the folder, as the build's does.
    assert not step(SIGN) and not (tmp_path / "run").exists()
    assert step(PUSH) is False
    shutil.rmtree(tmp_path / "run", ignore_errors=True)
    stamp(PUSH)
    assert (tmp_path / "run" / "pushed").exists()
    build()
    assert [step(SIGN), step(PUSH)] == [True, True]
    assert [step(SIGN), step(PUSH)] == [False, False]     # pulled in again, no build: skipped
    build()
    assert [step(SIGN), step(PUSH)] == [True, True]
    assert not step(PUSH)
