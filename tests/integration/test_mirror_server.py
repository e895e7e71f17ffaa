"""The mirror on a real waitress: swaps under load, and what reaches the logs."""

import http.client
import logging
import threading
from urllib.parse import urlencode

from lab.clock import on_a_hand_clock
from lab.servers import WaitressThread
from public_mirror.store import RECHECK

FORM = urlencode({"programme": "p2020", "receipt_number": "0000-0002", "lang": "ja"})


def _lookup(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/lookup", body=FORM,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, body


def test_snapshot_swaps_under_concurrent_requests_fail_nothing(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "100000"}).app
    failures, answers = [], []
    stop = threading.Event()
    with WaitressThread(app) as server:
        def hammer():
            while not stop.is_set():
                status, body = _lookup(server.port)
                if status != 200 or "振込予定です" not in body:
                    failures.append((status, body[:200]))
                answers.append(status)

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for worker in workers:
            worker.start()
        for _ in range(10):
            public_host.publish()
        stop.set()
        for worker in workers:
            worker.join()
    assert failures == [] and len(answers) > 20


def test_no_receipt_number_reaches_any_log(public_host, caplog):
    public_host.publish()
    app = public_host.app().app
    caplog.set_level(logging.DEBUG)
    with WaitressThread(app) as server:
        for number in ("0000-0002", "00000077", "００００００７８"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("POST", "/lookup", body=urlencode(
                {"programme": "p2020", "receipt_number": number}),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            conn.getresponse().read()
            conn.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for needle in ("00000002", "0000-0002", "00000077", "00000078", "００００００７８"):
        assert needle not in logged
    state = "\n".join(p.read_text(errors="replace") for p in (public_host.root / "state").rglob("*")
                      if p.is_file() and p.suffix in (".log", ".json"))
    for needle in ("00000002", "00000077", "00000078"):
        assert needle not in state


def test_no_birth_date_or_number_is_logged_even_when_things_go_wrong(public_host, caplog):
    """Refused input, a failing snapshot and a refused file are logged for the operator,
    without the number or birth date anyone typed."""
    public_host.publish()
    app = public_host.app().app
    clock = on_a_hand_clock(app.services.snapshots)
    caplog.set_level(logging.DEBUG)
    public_host.drop(b"garbage", "bad.bin")
    public_host.receive()
    forms = [{"programme": "p2024", "receipt_number": "00000001", "birth_year": "1980",
              "birth_month": "4", "birth_day": "1"},
             {"programme": "p2024", "receipt_number": "55556666", "birth_year": "19777",
              "birth_month": "12", "birth_day": "24"},
             {"programme": "p2020", "receipt_number": "55556666\x00"}]
    with WaitressThread(app) as server:
        for form in forms:
            for path in ("/lookup", "/api/v1/lookup"):
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                conn.request("POST", path, body=urlencode(form),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                conn.getresponse().read()
                conn.close()
        (public_host.root / "state" / "active.snapshot").write_bytes(b"damaged")
        clock.advance(RECHECK)  # a worker looks at the active file this often
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        conn.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "cannot be loaded" in logged and "rejected bad.bin" in logged
    for needle in ("00000001", "55556666", "1980", "19777", "12-24", "1980-04-01"):
        assert needle not in logged
