"""What each of the publication's three identities can reach, tried on the booted intranet
host from inside the real units (issue 17).

A probe replaces the unit's ExecStart for one run (a runtime drop-in, removed afterwards),
so it runs with everything else the unit sets — its OS user, address families, IP rules,
hidden paths; each check says REACHED or REFUSED and why. Every unit also gets one check
that must succeed (its own key, its own database, its own destination), so a probe that
cannot run at all is not taken for a refusal.
"""

from tests.e2e import city as guide
from tests.e2e.hosts import LabError

PROBE_PATH = "/usr/local/lib/shinsei-access-probe.py"
PROBE = """\
import os, socket, sys
label, kind, target = sys.argv[1:4]
try:
    if kind == "tcp":
        host, port = target.rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=3).close()
    elif kind == "read":
        with open(target, "rb") as handle:
            handle.read(1)
    elif kind == "list":
        os.listdir(target)
    elif kind == "postgres":
        import psycopg
        psycopg.connect("dbname=shinsei host=/run/postgresql", connect_timeout=3).close()
    print("PROBE", label, "REACHED", flush=True)
except Exception as error:
    print("PROBE", label, "REFUSED", type(error).__name__, str(error)[:200], flush=True)
"""
PYTHON = "/opt/shinsei/venv/bin/python"


def install_probe(host):
    host.write(PROBE_PATH, PROBE.encode(), 0o644)


def in_unit(host, unit, label, kind, target):
    """Run one check inside `unit`'s sandbox; its REACHED/REFUSED line."""
    dropin = f"/run/systemd/system/{unit}.d/zz-access-probe.conf"
    # The probe alone, each time: not the step's once-per-build condition either.
    host.write(dropin, (f"[Service]\nExecCondition=\nExecStart=\nExecStart={PYTHON} {PROBE_PATH} {label} "
                        f"{kind} {target}\n").encode())
    try:
        host.run("systemctl", "daemon-reload")
        return probe_line(host, unit, label)
    finally:
        host.run("rm", "-f", dropin)
        host.run("systemctl", "daemon-reload")


def probe_line(host, unit, label, attempts=3):
    """The probe's line from the run this start made, found by its invocation ID. A start
    while the unit still runs (a publication the path unit began) only waits for that run,
    so the start is tried again; the line is waited for, as journald may take the unit's
    output in after `systemctl start` returns."""
    journal = ""
    for _ in range(attempts):
        guide.wait_for(f"{unit} not running", lambda: guide.unit_idle(host, unit))
        # The probe alone: not the steps this unit requires.
        host.run("systemctl", "start", "--job-mode=ignore-dependencies", unit, check=False)
        invocation = guide.unit_property(host, unit, "InvocationID")
        try:
            return guide.wait_for(f"{unit}: the probe {label}'s line",
                                  lambda run=invocation: printed(host, run, label), timeout=20)
        except LabError:
            journal = host.run("journalctl", "-u", unit, "-o", "cat", "--no-pager",
                               "-n", "50").stdout
    raise AssertionError(f"{unit}: the probe {label} printed nothing in {attempts} starts:\n"
                         f"{journal[-1500:]}")


def printed(host, invocation, label):
    """The probe's last line in that run's output, or None while journald has not taken it."""
    host.run("journalctl", "--sync", check=False)
    journal = host.run("journalctl", f"_SYSTEMD_INVOCATION_ID={invocation}", "-o", "cat",
                       "--no-pager").stdout
    lines = [line for line in journal.splitlines() if line.startswith(f"PROBE {label} ")]
    return lines[-1] if lines else None


def as_user(host, user, label, kind, target):
    """The same check as the bare OS user, outside any unit: what file modes and pg_hba
    alone refuse."""
    return host.run("runuser", "-u", user, "--", PYTHON, PROBE_PATH, label, kind, target,
                    check=False).stdout.strip()


def checks(public_host, intranet):
    """(where, label, kind, target, expected) for every promise of issue 17."""
    sign_key, lookup_key = "/etc/shinsei/signer/sign.key", "/etc/shinsei/builder/lookup.key"
    client_key, built = "/etc/shinsei/pusher/id_ed25519", "/var/spool/shinsei/transfer/built"
    ssh, https = f"{public_host}:22", f"{intranet}:443"
    build, sign, push = ("shinsei-transfer-build.service", "shinsei-transfer-sign.service",
                         "shinsei-transfer-push.service")
    return [
        # The pusher: no database, no key, no spool but its own; its destination only.
        (push, "push-destination", "tcp", ssh, "REACHED"),
        (push, "push-postgres", "postgres", "-", "REFUSED"),
        (push, "push-sign-key", "read", sign_key, "REFUSED"),
        (push, "push-lookup-key", "read", lookup_key, "REFUSED"),
        (push, "push-built", "list", built, "REFUSED"),
        (push, "push-intranet-https", "tcp", https, "REFUSED"),
        ("shinsei-pusher", "user-push-postgres", "postgres", "-", "REFUSED"),
        ("shinsei-pusher", "user-push-sign-key", "read", sign_key, "REFUSED"),
        ("shinsei-pusher", "user-push-built", "list", built, "REFUSED"),
        # The builder: its database, no IP at all, no signing key.
        (build, "build-postgres", "postgres", "-", "REACHED"),
        (build, "build-tcp-public", "tcp", ssh, "REFUSED"),
        (build, "build-tcp-local", "tcp", "127.0.0.1:5432", "REFUSED"),
        (build, "build-sign-key", "read", sign_key, "REFUSED"),
        (build, "build-client-key", "read", client_key, "REFUSED"),
        # The signer: its key, no IP, no database.
        (sign, "sign-key", "read", sign_key, "REACHED"),
        (sign, "sign-tcp-public", "tcp", ssh, "REFUSED"),
        (sign, "sign-tcp-local", "tcp", "127.0.0.1:5432", "REFUSED"),
        (sign, "sign-postgres", "postgres", "-", "REFUSED"),
        (sign, "sign-client-key", "read", client_key, "REFUSED"),
        # It reads built/, but not the builder's cache in it (0700: the builder's alone).
        (sign, "sign-builder-cache", "list", f"{built}/cache", "REFUSED"),
        ("shinsei-signer", "user-sign-builder-cache", "list", f"{built}/cache", "REFUSED"),
        ("shinsei-signer", "user-sign-postgres", "postgres", "-", "REFUSED"),
    ]


def check_step_access(host, public_host, intranet):
    install_probe(host)
    wrong = []
    for where, label, kind, target, expected in checks(public_host, intranet):
        run = in_unit if where.endswith(".service") else as_user
        line = run(host, where, label, kind, target)
        if f" {expected}" not in line:
            wrong.append(f"{where}: {label} ({kind} {target}) expected {expected}, got: {line}")
    assert not wrong, "\n".join(wrong)
