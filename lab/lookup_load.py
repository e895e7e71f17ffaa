"""Residents looking their status up over HTTPS, run on the residents' side of the lab
(`ip netns exec <resident namespace> python lookup_load.py …`): the standard library only, so
it runs under any Python the machine has. `bench/balancer_bench.py` runs it on loopback.

Each resident is a source address of the residents' terminal. The balancer hashes the source
address, so several addresses reach both public hosts; and each public host's nginx lets one
address make 30 lookups a minute after a burst of 20 (deploy/nginx/mirror.conf), so load
is spread over many addresses, each kept within that.

`drill`: every source looks up once every INTERVAL seconds on a new connection (a resident's
phone), until standard input closes; one JSON line per lookup on standard output:
{"t": start (CLOCK_MONOTONIC, the machine's and the test's clock), "ms": latency, "source",
"status": HTTP status or the error's name, "ok": the answer page with a status}.

`burst`: CONNECTIONS keep-alive connections at once, each taking the next source and making
PER_SOURCE lookups on it; one JSON line at the end: lookups, failed, seconds, per second, p50
and p99 in ms.
"""

import argparse
import http.client
import json
import queue
import socket
import ssl
import sys
import threading
import time

FORM = "programme={programme}&receipt_number={receipt}&lang=ja"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
TIMEOUT = 10.0


def connection(args, source):
    """HTTPS to the site's name (SNI, certificate checked against the lab's CA) at the address
    given, from `source`."""
    context = ssl.create_default_context(cafile=args.ca)
    conn = http.client.HTTPSConnection(args.name, args.port, timeout=TIMEOUT, context=context,
                                       source_address=(source, 0))
    conn._create_connection = lambda _address, timeout, bound: socket.create_connection(
        (args.address, args.port), timeout, bound)
    return conn


def look_up(conn, body):
    """(HTTP status or the error's name, the answer carries a status)."""
    try:
        conn.request("POST", "/lookup", body=body, headers=HEADERS)
        response = conn.getresponse()
        page = response.read()
    except (OSError, http.client.HTTPException) as error:
        conn.close()
        return type(error).__name__, False
    return response.status, response.status == 200 and b'class="status' in page


def drill(args, body, out):
    stop = threading.Event()
    lock = threading.Lock()
    begin = time.monotonic()

    def resident(n, source):
        due = begin + args.interval * n / len(args.sources)   # spread over the interval
        while not stop.wait(max(0.0, due - time.monotonic())):
            started = time.monotonic()
            conn = connection(args, source)
            status, ok = look_up(conn, body)
            conn.close()
            line = json.dumps({"t": started, "ms": (time.monotonic() - started) * 1000,
                               "source": source, "status": status, "ok": ok})
            with lock:
                out.write(line + "\n")
                out.flush()
            due = max(due + args.interval, time.monotonic())

    threads = [threading.Thread(target=resident, args=(n, s), daemon=True)
               for n, s in enumerate(args.sources)]
    for thread in threads:
        thread.start()
    sys.stdin.read()           # the test closes it to end the drill
    stop.set()
    for thread in threads:
        thread.join(TIMEOUT + 5)


def burst(args, body, out):
    sources: queue.Queue = queue.Queue()
    for source in args.sources:
        sources.put(source)
    latencies: list[float] = []
    failed: list[str] = []

    def worker():
        while True:
            try:
                source = sources.get_nowait()
            except queue.Empty:
                return
            conn = connection(args, source)
            for _ in range(args.per_source):
                started = time.monotonic()
                status, ok = look_up(conn, body)
                latencies.append(time.monotonic() - started)
                if not ok:
                    failed.append(str(status))
            conn.close()

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    latencies.sort()
    out.write(json.dumps({
        "lookups": len(latencies), "failed": len(failed), "failures": sorted(set(failed)),
        "seconds": seconds, "per_second": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000}) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("drill", "burst"))
    parser.add_argument("--address", required=True, help="where the site's name points")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--name", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--programme", required=True)
    parser.add_argument("--receipt", required=True)
    parser.add_argument("--sources", nargs="+", required=True)
    parser.add_argument("--interval", type=float, default=2.5)
    parser.add_argument("--per-source", type=int, default=18)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    body = FORM.format(programme=args.programme, receipt=args.receipt)
    (drill if args.mode == "drill" else burst)(args, body, sys.stdout)


if __name__ == "__main__":
    main()
