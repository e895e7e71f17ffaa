"""Residents through the balancer: lookups per second with one, two and three public hosts
behind the shipped HAProxy configuration, against one public host alone, in the same run
(issue 29, item 4).

Every part is what a city installs, on loopback: each public host is ``shinsei-mirror serve``
(as its unit runs it) behind the public host's nginx site (``deploy/nginx/mirror.conf``), each
with its own copy of the same activated snapshot; each balancer is ``deploy/balancer/haproxy.cfg``
with its sequence agent, as ``install.sh --role balancer`` writes them, naming the first one,
two or three hosts. The residents are ``lab/lookup_load.py`` (HTTPS, the certificate checked),
each from its own loopback address — one address per resident, as the balancer hashes them
and as each host's nginx limits them — never reused in a run.

The configurations are measured in turns, round by round, so a burst of load from elsewhere
falls on all alike; each figure is the median of the rounds. Everything shares this machine's
cores, so more hosts cannot serve more here: the lookups-per-second lines show what the
balancer costs and that every lookup is answered, and the CPU lines — the balancer's CPU per
lookup against a public host's — say how many public hosts of their own one balancer core
can carry.

    .venv/bin/python bench/balancer_bench.py [--rounds 3] [--residents 300]
"""

import argparse
import contextlib
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Verdicts, sized
from bench.mirror_bench import own_cpu_seconds
from lab.balancer_hosts import (
    SERVER_NAME,
    HAProxy,
    Process,
    PublicNginx,
    SequenceAgent,
    certificate,
)
from lab.databases import free_port
from lab.mirror_fixtures import PublicHost

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "lab" / "lookup_load.py"
FOUND = ("p2020", "00000002")        # in every PublicHost snapshot: 振込予定です
PER_RESIDENT = 18                     # within each host's burst of 20 per address
CLIENTS = 2                           # load processes (one Python process tops out first)
DEPLOY_INI = (ROOT / "deploy" / "mirror.ini").read_text()


def residents():
    """Source addresses never used twice: 127.1.0.1, 127.1.0.2, … (all loopback)."""
    for b, c, d in itertools.product(range(1, 255), range(256), range(1, 255)):
        yield f"127.{b}.{c}.{d}"


class MirrorApp(Process):
    """``shinsei-mirror -c mirror.ini serve --threads 2``, as shinsei-mirror-web.service."""

    forks = True

    def __init__(self, root: Path, settings: dict):
        self.port, self.log = free_port(), root / "app.log"
        server = (DEPLOY_INI.split("\n[server:main]\n", 1)[1].split("\n[", 1)[0]
                  .replace("listen = 127.0.0.1:6544", f"listen = 127.0.0.1:{self.port}"))
        ini = root / "mirror.ini"
        ini.write_text("\n".join(["[app:main]", "use = egg:shinsei-status#mirror",
                                  *(f"{k} = {v}" for k, v in settings.items()),
                                  "", "[server:main]", server]), encoding="utf-8")
        self.command = [str(Path(sys.executable).with_name("shinsei-mirror")), "-c", str(ini),
                        "serve", "--threads", "2"]


def public_hosts(root: Path, entries: int, count: int):
    """``count`` copies of one public host with a snapshot of ``entries`` activated."""
    (root / "public1").mkdir()
    first = PublicHost(root / "public1")
    accepted = first.publish(filler=entries)
    assert all(outcome.accepted for outcome in accepted), accepted
    hosts = [first.settings]
    for n in range(2, count + 1):
        copy = root / f"public{n}"
        shutil.copytree(first.root, copy)
        hosts.append({k: v.replace(str(first.root), str(copy)) for k, v in first.settings.items()})
    return hosts


def burst(port: int, ca: Path, sources: list[str]) -> dict:
    """Residents at ``port``: CLIENTS processes, 8 keep-alive connections each, every source
    making PER_RESIDENT lookups; lookups, failed, per second (all of them over the longest)."""
    shares = [sources[n::CLIENTS] for n in range(CLIENTS)]
    runs = [subprocess.Popen([sys.executable, str(CLIENT), "burst", "--address", "127.0.0.1",
                              "--port", str(port), "--name", SERVER_NAME, "--ca", str(ca),
                              "--programme", FOUND[0], "--receipt", FOUND[1],
                              "--per-source", str(PER_RESIDENT), "--sources", *share],
                             stdout=subprocess.PIPE, text=True) for share in shares]
    results = [json.loads(run.communicate()[0]) for run in runs]
    lookups = sum(r["lookups"] for r in results)
    return {"lookups": lookups, "failed": sum(r["failed"] for r in results),
            "failures": sorted({f for r in results for f in r["failures"]}),
            "per_second": lookups / max(r["seconds"] for r in results),
            "p99_ms": max(r["p99_ms"] for r in results)}


def processes_of(pid: int) -> list[int]:
    """A server and every process below it (nginx's workers, the app's forked servers)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += [int(p) for p in subprocess.run(["pgrep", "-P", str(current)],
                                                 capture_output=True, text=True).stdout.split()]
    return found


def cpu(pids) -> float:
    """Each process's own CPU (``processes_of`` lists every one: counting a parent with its
    children as well would count the children twice)."""
    return sum(own_cpu_seconds(p) for p in pids)


def wait_all_up(haproxy: HAProxy, count: int, limit: float = 30.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        up = [name for name, row in haproxy.servers().items() if row["status"] == "UP"]
        if len(up) == count:
            return
        time.sleep(0.2)
    raise SystemExit(f"HAProxy did not have {count} hosts UP in {limit:.0f} s: {haproxy.servers()}")


def measure(args, targets: dict, sources) -> dict:
    """Each configuration's runs, round by round: lookups/s, failures, CPU per lookup of the
    balancer and of the public hosts (nginx and app together)."""
    runs: dict[str, list] = {name: [] for name in targets}
    for round_ in range(args.rounds):
        for name, (port, balancer_pids, host_pids) in targets.items():
            batch = list(itertools.islice(sources, args.residents))
            before = cpu(balancer_pids), cpu(host_pids)
            result = burst(port, args.ca, batch)
            spent = cpu(balancer_pids) - before[0], cpu(host_pids) - before[1]
            result["balancer_us"] = spent[0] / result["lookups"] * 1e6
            result["host_us"] = spent[1] / result["lookups"] * 1e6
            runs[name].append(result)
            print(f"round {round_ + 1} {name:<22} {result['per_second']:7,.0f} lookups/s "
                  f"failed {result['failed']} p99 {result['p99_ms']:.1f} ms  CPU per lookup: "
                  f"balancer {result['balancer_us']:.0f} µs, hosts {result['host_us']:.0f} µs",
                  flush=True)
    return runs


def median(runs, key):
    return statistics.median(run[key] for run in runs)


def run(args):
    with tempfile.TemporaryDirectory(prefix="shinsei-balancer-bench-") as tmp:
        root = Path(tmp)
        began = time.monotonic()
        settings = public_hosts(root, args.entries, 3)
        print(f"{args.entries:,}-entry snapshot activated on three public hosts in "
              f"{time.monotonic() - began:.1f} s", flush=True)
        tls = root / "tls"
        args.ca, _key = certificate(tls)
        with contextlib.ExitStack() as stack:
            sites, host_pids = [], []
            for n, host_settings in enumerate(settings, start=1):
                app = stack.enter_context(MirrorApp(root / f"public{n}", host_settings))
                site = stack.enter_context(PublicNginx(root / f"nginx{n}", app.port, tls,
                                                       workers="auto"))
                sites.append(site)
                host_pids.append(processes_of(app.process.pid) + processes_of(site.process.pid))
            balancers = {}
            for count in (1, 2, 3):
                haproxy = stack.enter_context(HAProxy(root / f"haproxy{count}", tls,
                                                      sites[:count]))
                stack.enter_context(SequenceAgent(root / f"agent{count}", tls, sites[:count],
                                                  haproxy, grace=10))
                wait_all_up(haproxy, count)
                balancers[count] = haproxy
            targets = {"public-1 alone": (sites[0].port, [], host_pids[0])}
            for count, haproxy in balancers.items():
                pids = [pid for pids in host_pids[:count] for pid in pids]
                targets[f"balancer, {count} host{'s' * (count > 1)}"] = (
                    haproxy.port, processes_of(haproxy.process.pid), pids)
            runs = measure(args, targets, residents())
            spread = balancers[3].servers()
        report(runs, spread, args)


def report(runs: dict, spread: dict, args):
    found = Verdicts("bench-balancer")
    alone = median(runs["public-1 alone"], "per_second")
    for name, measured in runs.items():
        if name == "public-1 alone":
            continue
        failed = sum(r["failed"] for r in measured)
        found.add(f"lookups/s through the balancer, {name.split(', ')[1]} (HTTPS, "
                  f"{args.residents} residents × {PER_RESIDENT}, median of {args.rounds}; "
                  f"failed {failed}, p99 {median(measured, 'p99_ms'):.1f} ms)",
                  median(measured, "per_second"), "/s",
                  f"public-1 alone, same run, {alone:,.0f}/s", alone,
                  "every lookup answered (the cores are shared: not a capacity figure)",
                  failed == 0)
    three = runs["balancer, 3 hosts"]
    balancer_us, host_us = median(three, "balancer_us"), median(three, "host_us")
    found.add("the balancer's CPU per lookup (HAProxy: TLS in, TLS to the host), 3 hosts",
              balancer_us, "µs", f"a public host's (nginx + app) CPU per lookup, "
              f"{host_us:.0f} µs", host_us,
              "< a public host's: a balancer core carries more than one host's lookups",
              balancer_us < host_us)
    served = {name: int(row["stot"]) for name, row in spread.items()}
    share = min(served.values()) / sum(served.values())
    found.add(f"the smallest host's share of the lookups, 3 hosts (hashed by address: "
              f"{', '.join(f'{n} {s:,}' for n, s in sorted(served.items()))})", share * 100,
              "%", "an even share, 33 %", 100 / 3, "≥ 20 %", share >= 0.2)
    found.finish()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=sized(1_000_000, 10_000))
    parser.add_argument("--rounds", type=int, default=sized(3, 1))
    parser.add_argument("--residents", type=int, default=sized(300, 40),
                        help="residents (source addresses) per measurement")
    run(parser.parse_args())
