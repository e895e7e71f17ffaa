"""Issue 25 item 6: the public host never falls over and never lies — each attack performed
against a real server, through the shipped nginx site where a resident's request goes."""

import http.client
import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote_from_bytes, urlencode

import pytest

from lab.clock import on_a_hand_clock
from lab.databases import free_port
from lab.servers import WaitressThread
from public_mirror.receiver_state import STALLED_AFTER
from public_mirror.store import RECHECK
from tests.integration.mirror_host import COMMAND, mirror_cli, post_form
from tests.integration.test_mirror_web_breaks import Nginx, Serve

FOUND = {"programme": "p2020", "receipt_number": "00000002", "lang": "en"}
FORM = "application/x-www-form-urlencoded"

# --- a language-switch proof that is not one ------------------------------------------

# Six values × three shells: within nginx's flood guard (burst 20). The many-valued fuzz
# runs without nginx (tests/functional/mirror/test_language_switch_proof.py).
HOSTILE_PROOFS = ["é" * 32, "証明", "0" * 31 + "\x00", "%C3%A9", "😀", "\ud800"]


def multipart(fields: dict) -> tuple[bytes, str]:
    boundary = "proofboundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             .encode() + value.encode("utf-8", "surrogatepass") + b"\r\n"
             for name, value in fields.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


def test_a_non_ascii_language_switch_proof_is_never_a_500_through_nginx(public_host, tmp_path):
    """The attack: the hidden ``asked`` field of an answer's language buttons replaced by
    non-ASCII text (once a 500 on page, form and API). Each is now an ordinary lookup."""
    public_host.publish()
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"})
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        for value in HOSTILE_PROOFS:
            raw = quote_from_bytes(value.encode("utf-8", "surrogatepass")).encode()
            fields = "&".join(f"{k}={v}" for k, v in FOUND.items()).encode()
            status, page = nginx.request("POST", "/lookup", fields + b"&asked=" + raw,
                                         {"Content-Type": FORM})
            assert status in (200, 400), (value, status)
            assert status == 400 or b"Payment scheduled" in page
            body, kind = multipart({**FOUND, "asked": value})
            status, page = nginx.request("POST", "/lookup", body, {"Content-Type": kind})
            assert status in (200, 400), (value, status)
            status, answer = nginx.request("POST", "/api/v1/lookup",
                                           json.dumps({**FOUND, "asked": value}).encode(),
                                           {"Content-Type": "application/json"})
            assert status == 200 and json.loads(answer)["result"] == "found", (value, status)


# --- the shared rate-limit table: cut, replaced, or on a full disk --------------------

def test_emptying_the_rate_limit_file_under_the_served_site_kills_no_worker(public_host,
                                                                            tmp_path):
    """The attack: ``: > rate-limit.table`` while ``shinsei-mirror serve`` (two processes)
    answers residents through the shipped nginx. A memory-mapped table killed every worker
    with SIGBUS; now every request is answered, and the limit still holds afterwards."""
    public_host.publish()
    table = tmp_path / "rate-limit.table"
    server = Serve(public_host, processes=2, **{"mirror.rate_limit_file": str(table),
                                                "mirror.trusted_proxies": "127.0.0.1"})
    try:
        found = urlencode({"programme": "p2020", "receipt_number": "00000002"}).encode()
        with Nginx(tmp_path / "nginx", server.port) as nginx:
            statuses = [nginx.request("POST", "/lookup", found, {"Content-Type": FORM})[0]
                        for _ in range(4)]   # both workers hold the table
            for n in range(12):
                table.write_bytes(b"") if n % 2 else os.truncate(table, 4096)
                statuses.append(nginx.request("POST", "/lookup", found,
                                              {"Content-Type": FORM})[0])
            assert statuses == [200] * 16
        assert server.process.poll() is None
        worker_pids = children(server.process.pid)
        assert len(worker_pids) == 1, "a forked worker died"
        # The limit is still one limit, shared by both processes through the file.
        failed = Counter(post_form(server.port, {"programme": "p2020",
                                                 "receipt_number": f"9{n:07d}"})[0]
                         for n in range(30))
        assert failed == Counter({200: 20, 429: 10})
    finally:
        err = server.stop()
    assert "Traceback" not in err and "cut by hand" in err


def children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in tasks]


FULL_DISK_SCRIPT = textwrap.dedent("""
    import contextlib, http.client, json, os, shutil, signal, subprocess, sys, time
    directory, command, ini, port = sys.argv[1:5]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", directory], check=True)
    table, filler = os.path.join(directory, "rate-limit.table"), os.path.join(directory, "filler")
    def ask(address, number="00000002"):
        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        conn.request("POST", "/lookup", f"programme=p2020&receipt_number={number}",
                     {"Content-Type": "application/x-www-form-urlencoded",
                      "X-Forwarded-For": address})
        status = conn.getresponse().status
        conn.close()
        return status
    def fill():   # until the disk says no (unbuffered: nothing left to write at close)
        with open("/dev/zero", "rb") as zeros, open(filler, "ab", buffering=0) as handle:
            with contextlib.suppress(OSError):
                shutil.copyfileobj(zeros, handle)
    server = subprocess.Popen([command, "-c", ini, "serve", "--port", port, "--processes", "2"],
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    result = {}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ask("192.0.2.1")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        result["made"] = os.path.getsize(table)
        fill()                                         # the disk full, the table made
        result["new_addresses"] = [ask(f"10.0.{n // 250}.{n % 250}") for n in range(400)]
        with open(table, "r+b") as emptied:           # emptied, and its room taken
            emptied.truncate(0)
        fill()
        result["emptied"] = [ask(f"10.1.0.{n}") for n in range(40)]
        result["guesses_when_full"] = [ask("198.51.100.9", f"9{n:07d}") for n in range(30)]
        os.unlink(filler)                              # space again
        result["freed"] = [ask(f"10.2.0.{n}") for n in range(40)]
        result["size_after"] = os.path.getsize(table)
        result["alive"] = server.poll() is None
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        result["stderr"] = server.communicate(timeout=30)[1]
        subprocess.run(["umount", directory])
    print(json.dumps(result))
""")


def test_a_full_disk_under_the_rate_limit_file_kills_no_worker(public_host, tmp_path):
    """The attack: the file system holding the table full, then the table emptied so that
    it must grow. A memory-mapped, sparse table killed the workers with SIGBUS as new
    clients touched new pages; now the table's blocks are reserved when it is made, and a
    table that cannot be made whole again is set aside (logged) while each worker limits
    on its own — until there is room, when they share it again. The table lies on a 4 MB
    tmpfs mounted in a private mount namespace (``unshare``), unmounted at the end."""
    public_host.publish()
    directory = tmp_path / "small-disk"
    directory.mkdir()
    ini = public_host.write_ini(**{"mirror.rate_limit_file": str(directory / "rate-limit.table"),
                                   "mirror.trusted_proxies": "127.0.0.1",
                                   "mirror.rate_limit": "6"})
    with ini.open("a") as more:   # each client's address as nginx would pass it
        more.write("[server:main]\nlisten = 127.0.0.1:6544\ntrusted_proxy = 127.0.0.1\n"
                   "trusted_proxy_headers = x-forwarded-for\n")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                           "-c", FULL_DISK_SCRIPT, str(directory), COMMAND, str(ini),
                           str(free_port())], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["made"] > 2_000_000 and result["alive"], result["stderr"]
    assert result["new_addresses"] == [200] * 400
    assert result["emptied"] == [200] * 40
    # Each of the two workers limits on its own: at most twice the limit, never none.
    refused = result["guesses_when_full"].count(429)
    assert 30 - 12 <= refused <= 30 - 6, result["guesses_when_full"]
    assert result["freed"] == [200] * 40 and result["size_after"] == result["made"]
    err = result["stderr"]
    assert "Traceback" not in err
    assert "unusable (OSError: [Errno 28] No space left on device)" in err
    assert "this worker limits on its own" in err and "usable again" in err


# --- the active file held to the receiver's ledger ------------------------------------

@pytest.mark.parametrize("how", ["cp", "mv"])
def test_an_older_signed_snapshot_copied_over_the_active_file_is_not_served(public_host,
                                                                           tmp_path, how):
    """The attack: yesterday's genuine, signed snapshot put over ``active.snapshot`` by hand
    (``cp`` into the file, or ``mv`` of a copy). It verifies perfectly, and was served while
    ``status`` and ``/healthz`` said ok. Now residents are told 更新中 (through the shipped
    nginx), ``/healthz`` says "mismatch", ``status`` fails naming both sequences; the next
    publication puts things right."""
    older = public_host.snapshot()
    public_host.drop(older, "older.bin")
    public_host.receive()
    public_host.publish()                                  # today's
    active = public_host.root / "state" / "active.snapshot"
    found = urlencode({"programme": "p2020", "receipt_number": "00000002"}).encode()
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"})
    clock = on_a_hand_clock(app.app.services.snapshots)
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        assert nginx.request("POST", "/lookup", found, {"Content-Type": FORM})[0] == 200
        if how == "cp":
            active.write_bytes(older)
        else:
            (tmp_path / "older.copy").write_bytes(older)
            os.replace(tmp_path / "older.copy", active)
        clock.advance(RECHECK)                             # the worker's next look
        status, page = nginx.request("POST", "/lookup", found, {"Content-Type": FORM})
        assert status == 503 and "情報を更新しています" in page.decode()
        status, body = nginx.request("GET", "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "mismatch", health
        assert f"sequence {public_host.sequence - 1}" in health["problem"]
        assert f"says {public_host.sequence}" in health["problem"]
        shown = mirror_cli(public_host, "status")
        assert shown.returncode == 1 and "ACTIVE SNAPSHOT MISMATCH" in shown.stdout, shown.stdout
        public_host.publish()                              # the next publication
        clock.advance(RECHECK)
        assert nginx.request("POST", "/lookup", found, {"Content-Type": FORM})[0] == 200
        health = json.loads(nginx.request("GET", "/healthz")[1])
        assert health["status"] == "ok" and health["sequence"] == public_host.sequence
    assert mirror_cli(public_host, "status").returncode == 0


# --- /healthz tells the receiver's state, within a bound ------------------------------

def healthz(nginx) -> tuple[int, dict, int]:
    status, body = nginx.request("GET", "/healthz")
    return status, json.loads(body), len(body)


def test_a_checkpoint_over_256_kb_no_longer_hides_the_last_refusal(public_host, tmp_path):
    """The attack: a refused file, then a snapshot whose audit checkpoint is 300 KB (kept
    in the activation log's record): /healthz read only the log's last 256 KB and reported
    no refusal. It now reads the log whole (once per change) and answers within a bound."""
    public_host.publish()
    public_host.drop(b"garbage", "refused.bin")
    public_host.receive()
    huge = {"count": 7, "head_hash": "ab" * 150_000, "at": "2025-01-01T00:00:00Z",
            "key_id": "k" * 2000}
    public_host.publish(header={"audit_checkpoint": huge})
    log = public_host.root / "state" / "activation.log"
    assert len(log.read_bytes().splitlines()[-1]) > 300_000
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"})
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        status, health, size = healthz(nginx)
    assert status == 200 and health["status"] == "ok", health
    assert health["last_refusal"]["file"] == "refused.bin"
    assert health["last_refusal"]["reason"].startswith("MalformedSnapshot")
    assert health["receiver"]["last_attempt"]["outcome"] == "accepted"
    assert health["receiver"]["state"] == "ok" and size < 8192


def test_a_stopped_receiver_is_not_reported_ok(public_host, tmp_path):
    """The attack: the receiver stopped (its unit, its path watch, its start limit, or its
    records disagreeing) while a publication waits in the inbox: /healthz said ok. Now a
    file waiting longer than STALLED_AFTER makes it say receiver_stopped (503), naming how
    many wait and for how long; once received, ok again."""
    public_host.publish()
    waiting = public_host.root / "inbox" / "snapshot-waiting.bin"
    waiting.write_bytes(public_host.snapshot())
    app = public_host.app(**{"mirror.trusted_proxies": "127.0.0.1"})
    clock = on_a_hand_clock(app.app.services.snapshots)
    with WaitressThread(app.app) as server, Nginx(tmp_path / "nginx", server.port) as nginx:
        status, health, _size = healthz(nginx)
        assert status == 200 and health["receiver"]["state"] == "ok"   # just arrived
        long_ago = time.time() - STALLED_AFTER - 60
        os.utime(waiting, (long_ago, long_ago))
        status, health, _size = healthz(nginx)
        assert status == 503 and health["status"] == "receiver_stopped", health
        assert health["receiver"]["state"] == "stopped"
        assert "1 file(s) waiting in the inbox, the oldest for 11 min" in health["problem"]
        assert health["sequence"] == public_host.sequence - 1     # residents still answered
        public_host.receive()
        clock.advance(RECHECK)
        status, health, _size = healthz(nginx)
        assert status == 200 and health["status"] == "ok"
        assert health["sequence"] == public_host.sequence


# --- a city-sized activation keeps residents answered ---------------------------------

CITY = 2_000_000   # entries: the attack activated a 2M snapshot and one request stalled 354 ms


def test_a_2m_entry_activation_answers_residents_from_the_previous_snapshot_meanwhile(
        public_host):
    """The attack: activate a 2,000,000-entry snapshot while residents ask; the worker
    loaded the new file under its lock in the request that noticed it, and every request
    that looked meanwhile waited for the whole load. Now the file is loaded by a thread of
    its own: requests asked while it loads — the one that noticed it included — are
    answered from the previous snapshot, then from the new one, never the other way back.
    (Which snapshot answered is asserted, not how long anything took.)"""
    public_host.publish()
    old = public_host.sequence
    app = public_host.app()
    snapshots = app.app.services.snapshots
    clock = on_a_hand_clock(snapshots)
    public_host.drop(public_host.snapshot(filler=CITY), "city.bin")
    with WaitressThread(app.app) as server:
        assert healthz_sequence(server.port) == old
        assert public_host.receive()[0].accepted                # the new file is active
        clock.advance(RECHECK)                                  # past the worker's next look
        answers = []                                            # (sequence, loading around it)
        deadline = time.monotonic() + 120
        while (not answers or answers[-1][0] != old + 1) and time.monotonic() < deadline:
            before = snapshots.loading
            answers.append((healthz_sequence(server.port), before, snapshots.loading))
    assert answers[0][0] == old, answers[:3]          # the request that noticed the new file
    during = [sequence for sequence, before, after in answers if before and after]
    assert during and set(during) == {old}, answers[:5]   # answered while the load went on
    assert answers[-1][0] == old + 1                      # then the new one, for good
    switched = [sequence for sequence, _before, _after in answers].index(old + 1)
    assert {sequence for sequence, _b, _a in answers[switched:]} == {old + 1}
    assert snapshots.loaded.table.count > CITY


def healthz_sequence(port) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = json.loads(response.read())
        assert response.status == 200, body
        return body["sequence"]
    finally:
        conn.close()
