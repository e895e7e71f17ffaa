"""Residents' page under load: a 5,000,000-entry snapshot, wrk at 1-64 connections.

For each server configuration, and in the same run a bare waitress WSGI app doing the same
form parse + HMAC + bisection (the floor) — as a 70-byte page, and as a page of the answer
page's size with its headers (the same bytes on the wire) — prints requests/s and p99
latency per concurrency (the median of ``--rounds`` runs taken in turns), the mirror's
share of each floor, the RSS per worker, and the failures seen while a new snapshot is
activated mid-run. Targets (issue 16): >= 95 % of the bare floor in the same configuration
at every concurrency from 2 to 64, >= 5,000 req/s from 2 connections up, p99 < 50 ms at
64, zero failed requests across a swap.

    .venv/bin/python bench/mirror_bench.py [--entries 5000000] [--seconds 5] [--rounds 3]
        [--only WORDS] [--concurrency 2,8,32,64] [--hand-off]

``--cpu`` measures instead, in this process, the CPU time per POST /lookup of the mirror's
fast path and of the bare app, on the same requests: on a shared machine, load stretches
wall-clock throughput far more than CPU time, so this is the figure that compares runs.
"""

import argparse
import io
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import SMALL, Verdicts, sized
from lab.databases import free_port
from lab.mirror_fixtures import PROGRAMMES, STATUSES, PublicHost
from transfer.build import sign_snapshot
from transfer.lookup import LookupHasher, lookup_key_id
from transfer.snapshot import FORMAT_VERSION, PAYLOAD_TYPE, format_time

CONCURRENCY = [1, 2, 8, 32, 64]
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
counter = 0
request = function()
  counter = counter + 1
  local n = (counter * 7919) % ENTRIES
  return wrk.format(nil, "/lookup", nil,
    string.format("programme=p2020&lang=ja&receipt_number=%08d", n))
end
"""


def make_snapshot(host: PublicHost, entries: int, sequence: int) -> bytes:
    from datetime import UTC, datetime, timedelta

    hasher = LookupHasher(host.secret, "p2020")
    rows = sorted((hasher.key(f"{n:08d}"), n % 2, 0, 0) for n in range(entries))
    now = datetime.now(UTC).replace(microsecond=0)
    header = {"format": FORMAT_VERSION, "payload_type": PAYLOAD_TYPE,
              "origin": {"municipality": "142158", "environment": "prod"},
              "sequence": sequence, "created_at": format_time(now),
              "expires_at": format_time(now + timedelta(days=1)),
              "lookup_key_id": lookup_key_id(host.secret),   # the host's key: it answers
              "programmes": PROGRAMMES[:1], "statuses": STATUSES}
    return sign_snapshot(rows, 0, signing_keys=[host.signing_key], header=header).data


def write_ini(host: PublicHost, path: Path):
    lines = ["[app:main]", "use = egg:shinsei-status#mirror"]
    settings = {**host.settings, "mirror.rate_limit": "100000000"}
    lines += [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")


def rss_mb(pid: int) -> float:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total = []
    for p in [str(pid), *children]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        total.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return max(total) if total else 0.0


def wrk(port, connections, seconds, script):
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(x) for x in socket_errors.groups())
    return rate, p99_ms, failed


def start_server(ini, extra, startup):
    """``extra``: serve_mirror.py's options; ``--tree DIR`` first: that checkout's code."""
    port = free_port()
    tree, env = Path(__file__).parents[1], None
    if extra[:1] == ["--tree"]:
        tree, extra = Path(extra[1]), extra[2:]
        env = {**os.environ, "PYTHONPATH": str(tree)}
    # A session of its own, so that stopping it stops every forked worker too.
    server = subprocess.Popen([sys.executable, "-W", "ignore",
                               str(tree / "bench" / "serve_mirror.py"), str(ini), str(port),
                               *extra], start_new_session=True, env=env)
    time.sleep(startup)
    return server, port


def stop_server(server):
    os.killpg(server.pid, signal.SIGTERM)
    server.wait()


def run_configs(configs, ini, args, script):
    """Every configuration served at once (an idle one costs nothing), measured in turns:
    round by round, level by level, one configuration after the other — so a burst of load
    from elsewhere falls on all of them alike. Each cell is the median of the rounds."""
    servers = []
    try:
        for _name, extra in configs:
            servers.append(start_server(ini, extra, 0))
        time.sleep(args.startup)
        runs = {(name, c): [] for name, _ in configs for c in args.levels}
        for _ in range(args.rounds):
            for connections in args.levels:
                for (name, _), (server, port) in zip(configs, servers, strict=True):
                    spent = cpu_seconds(server.pid)
                    rate, p99, failed = wrk(port, connections, args.seconds, script)
                    spent = cpu_seconds(server.pid) - spent
                    runs[name, connections].append(
                        (rate, p99, failed, spent / max(1.0, rate * args.seconds) * 1e6))
        memory = {name: rss_mb(server.pid) for (name, _), (server, _) in zip(configs, servers,
                                                                             strict=True)}
    finally:
        for server, _ in servers:
            stop_server(server)
    return [(name, {c: median_run(runs[name, c]) for c in args.levels}, memory[name])
            for name, _ in configs]


def median_run(runs):
    """(req/s, p99, failed, server CPU µs per request): the medians, all failures."""
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            sum(r[2] for r in runs), statistics.median(r[3] for r in runs))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a server and its forked processes."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                              text=True).stdout.split()
    return sum(own_cpu_seconds(int(process)) for process in [pid, *children])


def own_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process alone (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def swap_under_load(host, ini, args, script, extra):
    server, port = start_server(ini, extra, args.startup)
    try:
        outcome = {}
        runner = threading.Thread(target=lambda: outcome.update(
            result=wrk(port, 32, args.seconds * 2, script)))
        runner.start()
        time.sleep(args.seconds / 2)
        host.drop(make_snapshot(host, args.entries, 10_000), "swap.bin")
        accepted = host.receive()
        runner.join()
        return outcome["result"], accepted
    finally:
        stop_server(server)


def answer_page_bytes(ini) -> int:
    """The size of the answer page the mirror sends for a number not found."""
    import webtest
    from pyramid.paster import get_appsettings

    from public_mirror import main as make_mirror

    app = webtest.TestApp(make_mirror({}, **get_appsettings(str(ini))))
    page = app.get("/")
    form = page.forms[0] if page.forms else None
    fields = {"programme": "p2020", "receipt_number": "99999999"}
    if form is not None:
        fields = {**{k: v for k, v in form.submit_fields()}, **fields}
    response = app.post("/lookup", fields, status="*")
    return len(response.body)


def print_ratios(table, levels):
    """The shipped configuration against each bare floor of the same configuration (the
    same processes, threads and server mode)."""
    rows = {name: results for name, results, _ in table}
    for mode in ("", " [hand-off]"):
        mirror = next((r for n, r in rows.items()
                       if n.startswith("mirror, 2 processes") and n.endswith(mode)
                       and (mode or "[" not in n)), None)
        for floor_name, floor in rows.items():
            if (mirror is None or not floor_name.startswith("bare WSGI, 2")
                    or not floor_name.endswith(mode) or (not mode and "[" in floor_name)):
                continue
            cells = "".join(f"{mirror[c][0] / floor[c][0]:>15.0%} " for c in levels)
            floor_kind = ("same bytes, headers kept" if "headers kept" in floor_name
                          else "same bytes and headers" if "byte page" in floor_name
                          else "70-byte page")
            print(f"{f'  mirror ÷ bare 2 x 2, {floor_kind}{mode}':<52}{cells}")


def cpu_per_request(apps: dict, bodies, rounds=15) -> dict:
    """Per app, CPU microseconds per request (best round), each WSGI app called directly.
    The apps take turns round by round, so that a burst of load elsewhere hits both."""
    def call(app, body):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/lookup", "REMOTE_ADDR": "198.51.100.7",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
        return b"".join(app(environ, lambda status, headers: None))

    best = dict.fromkeys(apps, float("inf"))
    for app in apps.values():
        for body in bodies[:200]:   # warm: answer pages kept, caches filled
            call(app, body)
    for _ in range(rounds):
        for name, app in apps.items():
            started = time.process_time()
            for body in bodies:
                call(app, body)
            best[name] = min(best[name], time.process_time() - started)
    return {name: spent / len(bodies) * 1e6 for name, spent in best.items()}


def cpu_figures(host, entries):
    from bench.serve_mirror import bare_app
    from public_mirror import main as mirror_main

    settings = {**host.settings, "mirror.rate_limit": "100000000"}
    bodies = [f"programme=p2020&lang=ja&receipt_number={(n * 7919) % entries:08d}".encode()
              for n in range(1000)]
    spent = cpu_per_request({"bare": bare_app(settings), "mirror": mirror_main({}, **settings)},
                            bodies)
    bare, mirror = spent["bare"], spent["mirror"]
    print(f"CPU per POST /lookup: bare {bare:.1f} µs, mirror fast path {mirror:.1f} µs "
          f"(mirror = {mirror / bare:.2f} × bare; {1e6 / mirror:,.0f} answers/s per core)")


def main(args):
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (the load generator): `make bench-deps` installs it "
                         "(Debian package wrk)")
    with tempfile.TemporaryDirectory() as root:
        host = PublicHost(Path(root))
        started = time.perf_counter()
        host.drop(make_snapshot(host, args.entries, 1))
        assert all(o.accepted for o in host.receive())
        print(f"{args.entries:,}-entry snapshot built, signed, verified, activated in "
              f"{time.perf_counter() - started:.1f} s")
        if args.cpu:
            return cpu_figures(host, args.entries)
        ini = Path(root) / "mirror.ini"
        write_ini(host, ini)
        script = Path(root) / "lookup.lua"
        script.write_text(LUA.replace("ENTRIES", str(args.entries)))
        page_bytes = answer_page_bytes(ini)
        print(f"the mirror's answer page (not found, with its headers' values): {page_bytes:,} bytes")
        configs = [
            ("bare WSGI on waitress, 1 process x 8 threads (floor)", ["--bare"]),
            ("mirror, 1 process x 8 threads", []),
            ("mirror, 1 process x 2 threads", ["--threads", "2"]),
            ("mirror, 2 processes x 2 threads, SO_REUSEPORT", ["--processes", "2", "--threads", "2"]),
            ("bare WSGI, 2 processes x 2 threads, SO_REUSEPORT",
             ["--bare", "--processes", "2", "--threads", "2"]),
            # The same bytes on the wire as the mirror's answer page: wrk shares the cores,
            # so a 70-byte floor page is cheaper to send and to read than the real one.
            (f"bare WSGI, 2 x 2, a {page_bytes:,}-byte page (the answer page's size)",
             ["--bare", "--processes", "2", "--threads", "2", "--bare-bytes", str(page_bytes)]),
            # The same, its header block built once as the mirror's is (public_mirror.serve):
            # what the floor would cost if it used what the mirror uses.
            (f"bare WSGI, 2 x 2, a {page_bytes:,}-byte page, headers kept",
             ["--bare", "--processes", "2", "--threads", "2", "--bare-bytes", str(page_bytes),
              "--bare-kept"]),
        ]
        if args.only:   # "a, b,c": the words "a, b" and "c" (names hold ", " themselves)
            words = re.split(r",(?! )", args.only)
            configs = [c for c in configs if any(word in c[0] for word in words)]
        if args.hand_off:   # waitress as it comes, measured in turns with the shipped server
            configs += [(f"{name} [hand-off]", [*extra, "--hand-off"]) for name, extra in configs]
        if args.before:   # another checkout's server (e.g. main's), in turns with this one
            configs += [(f"{name} [before]", ["--tree", args.before, *extra])
                        for name, extra in configs if name.startswith("mirror, 2 processes")]
        table = run_configs(configs, ini, args, script)
        print(f"\n{'configuration':<52}" + "".join(f"{f'c={c}':>16}" for c in args.levels)
              + f"{'RSS/worker':>12}")
        for name, results, memory in table:
            cells = "".join(f"{results[c][0]:>8,.0f} {results[c][1]:>5.1f}ms" for c in args.levels)
            print(f"{name:<52}{cells}{memory:>10,.0f}MB")
        print_ratios(table, args.levels)
        print("\nserver CPU per request (µs, user + system of its processes ÷ requests)")
        for name, results, _ in table:
            print(f"{name:<52}" + "".join(f"{results[c][3]:>15.0f} " for c in args.levels))
        best_bare = max(r[0] for name, results, _ in table if "bare" in name for r in results.values())
        print(f"\nbest bare throughput: {best_bare:,.0f} req/s (cells: req/s and p99)")
        found = Verdicts("bench-mirror")
        targets(found, table, args.levels)
        if args.only and not args.swap:
            return found.finish()
        (rate, p99, failed), accepted = swap_under_load(host, ini, args, script,
                                                        ["--processes", "2", "--threads", "2"])
        print(f"swap during a 32-connection run: {rate:,.0f} req/s, p99 {p99:.1f} ms, "
              f"failed requests {failed}, new snapshot accepted: "
              f"{all(o.accepted for o in accepted)}")
        accepted = all(o.accepted for o in accepted)
        found.add("failed requests while a new snapshot is activated (32 connections)", failed,
                  "", f"new snapshot {'accepted' if accepted else 'REFUSED'}", None, "0",
                  failed == 0 and accepted)
        found.finish()


def targets(found, table, levels):
    """The shipped configuration (2 processes x 2 threads) against the bare app sending the
    same bytes and headers on the same server configuration, same run."""
    rows = {name: results for name, results, _ in table if "[" not in name}
    mirror = next((r for n, r in rows.items() if n.startswith("mirror, 2 processes")), None)
    floor = next((r for n, r in rows.items() if "byte page" in n and "kept" not in n), None)
    if mirror is None or floor is None:
        print("(no verdicts: the shipped configuration and its same-bytes floor were not both run)")
        return
    for c in (c for c in levels if c >= 2):
        cpu, bare_cpu = mirror[c][3], floor[c][3]
        found.add(f"server CPU per answer, {c} connections", cpu, "µs",
                  f"bare app, same bytes and headers {bare_cpu:.0f} µs", bare_cpu, "≤ 1.15× bare",
                  cpu <= 1.15 * bare_cpu)
    slowest = min(levels_from_2 := [c for c in levels if c >= 2], key=lambda c: mirror[c][0])
    found.add(f"answers/s, fewest over {levels_from_2[0]}–{levels_from_2[-1]} connections "
              f"(at {slowest})", mirror[slowest][0], "/s",
              f"bare, same bytes {floor[slowest][0]:,.0f}/s", floor[slowest][0], "≥ 5,000/s",
              mirror[slowest][0] >= 5000)
    top = max(levels)
    found.add(f"p99 at {top} connections", mirror[top][1], "ms",
              f"bare, same bytes {floor[top][1]:.1f} ms", floor[top][1], "< 50 ms",
              mirror[top][1] < 50)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=sized(5_000_000, 20_000))
    parser.add_argument("--only", default=sized(None, "mirror, 2 processes,byte page"),
                        help="comma-separated words (a comma followed by a space is part "
                             "of a word): run only configurations whose name contains one")
    parser.add_argument("--concurrency", default=sized(None, "2,64"),
                        help="comma-separated, default 1,2,8,32,64")
    parser.add_argument("--seconds", type=int, default=sized(5, 1))
    parser.add_argument("--rounds", type=int, default=sized(3, 1),
                        help="each cell is the median of this many runs, taken in turns")
    parser.add_argument("--startup", type=float, default=sized(4.0, 2.0))
    parser.add_argument("--swap", action="store_true", default=SMALL,
                        help="with --only: measure the swap under load too")
    parser.add_argument("--hand-off", action="store_true",
                        help="also each configuration with every request handed to a worker "
                             "thread (waitress as it comes), in turns with the shipped one")
    parser.add_argument("--before", metavar="DIR",
                        help="also the mirror served by the checkout in DIR (its own code), "
                             "in turns with this one: before and after in one run")
    parser.add_argument("--cpu", action="store_true",
                        help="CPU time per lookup in this process, mirror against bare")
    arguments = parser.parse_args()
    arguments.levels = ([int(c) for c in arguments.concurrency.split(",")]
                        if arguments.concurrency else CONCURRENCY)
    main(arguments)
