"""SFTP push benchmark: the transfer job's paramiko upload against OpenSSH's own sftp client,
the same file, the same (test) sshd over loopback, in the same run.

Target (issue #16, item 5): >= 90 % of OpenSSH sftp's throughput for the 1,000,000- and
5,000,000-entry snapshots (21 and 105 MB). The two clients take turns (OpenSSH, then the
job, repeat), so a load change on a shared machine falls on both. Needs root (the test sshd
chroots).

    .venv/bin/python bench/transfer_bench.py [--entries 1000000 5000000] [--repeat 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Verdicts, sized
from lab.sshd import UPLOAD_USER, Sshd
from transfer.sftp import SftpDestination


def openssh_put(sshd, known_hosts, path, name):
    batch = path.with_suffix(".batch")
    batch.write_text(f"put {path} /inbox/{name}\n")
    subprocess.run(["sftp", "-q", "-b", str(batch), "-i", str(sshd.client_key),
                    "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
                    "-o", "BatchMode=yes", "-P", str(sshd.port), f"{UPLOAD_USER}@127.0.0.1"],
                   check=True, capture_output=True)


def timed(action):
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def compare(sshd, root, known, entries, repeat):
    size = entries * 21 + 20_000   # entries plus a header, as a real snapshot
    data = os.urandom(size)
    path = root / "snapshot.bin"
    path.write_bytes(data)
    destination = SftpDestination("127.0.0.1", sshd.port, UPLOAD_USER, sshd.client_key,
                                  known, "/inbox", timeout=30, retries=0)
    openssh, job = [], []
    for _ in range(repeat):
        openssh.append(timed(lambda: openssh_put(sshd, known, path, "o.bin")))
        job.append(timed(lambda: destination.deliver("p.bin", data)))
    assert (sshd.inbox / "p.bin").read_bytes() == data
    openssh_s, job_s = statistics.median(openssh), statistics.median(job)
    mb = size / 1e6
    print(f"file: {mb:.1f} MB ({entries:,} entries); median of {repeat}, each a full session "
          f"(connect, authenticate, upload, rename); load average {os.getloadavg()[0]:.1f}")
    print(f"  OpenSSH sftp client (baseline): {openssh_s:.3f} s, {mb / openssh_s:,.1f} MB/s")
    print(f"  transfer job (SftpDestination): {job_s:.3f} s, {mb / job_s:,.1f} MB/s"
          f" = {openssh_s / job_s:.0%} of OpenSSH")
    return mb, openssh_s, job_s


def main(args):
    sshd = Sshd().start()
    found = Verdicts("bench-transfer")
    try:
        with tempfile.TemporaryDirectory() as root:
            root = Path(root)
            known = sshd.known_hosts(root / "known_hosts")
            for entries in args.entries:
                mb, openssh_s, job_s = compare(sshd, root, known, entries, args.repeat)
                # Throughput as a share of OpenSSH's: its time over the job's.
                share = openssh_s / job_s * 100
                found.add(f"SFTP push of a {entries:,}-entry snapshot ({mb:.1f} MB), "
                          "share of OpenSSH sftp's throughput", share, "%",
                          f"OpenSSH sftp {mb / openssh_s:,.1f} MB/s", 100.0, "≥ 90 %",
                          share >= 90)
    finally:
        sshd.stop()
    found.finish()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=sized([1_000_000, 5_000_000], [20_000]))
    parser.add_argument("--repeat", type=int, default=sized(5, 1))
    main(parser.parse_args())
