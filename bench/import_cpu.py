"""The import's own CPU per row, in this process: an N-row new-applications CP932 file, then
a bank file of B status rows (bench/import_bench.py's files), into PostgreSQL or SQLite.

    PYTHONPATH=<code tree> .venv/bin/python bench/import_cpu.py [--rows 100000]
        [--bank-rows 50000] [--engine pg|sqlite] [--profile new|bank]

Own CPU (``time.process_time``: every thread of the process, on SQLite the database's work
too) holds on a loaded machine where wall time does not. Run it with PYTHONPATH set to
another tree (e.g. ``git archive main``) to compare code in the same run.
"""

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.import_bench import INI, bank_file, make_file
from lab.databases import PostgresCluster, postgres_bindir


def timed(ini: Path, path: Path, label: str, rows: int, profile: bool) -> None:
    from intranet import cli

    profiler = cProfile.Profile() if profile else None
    out = io.StringIO()
    started, wall = time.process_time(), time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        if profiler:
            profiler.enable()
        failed = cli.main(["-c", str(ini), "import", str(path), "--programme", "p2020"])
        if profiler:
            profiler.disable()
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    if failed:
        raise SystemExit(out.getvalue()[-2000:])
    print(f"{label}: {rows:,} rows, own CPU {cpu:.2f} s = {cpu * 1e6 / rows:.1f} µs a row, "
          f"wall {wall:.2f} s, the database's work included ({cli.__file__})", flush=True)
    if profiler:
        order, shown = os.environ.get("SORT", "tottime"), int(os.environ.get("TOP", "30"))
        pstats.Stats(profiler).sort_stats(order).print_stats(shown)


def main(args) -> None:
    import transaction
    from pyramid.paster import get_appsettings

    from intranet import cli
    from intranet import settings as loaded
    from intranet.db import get_engine, get_session_factory, get_tm_session
    from intranet.programmes.models import Programme

    work = Path(tempfile.mkdtemp(prefix="import-cpu-"))
    source = work / "file.csv"
    make_file(source, args.rows)
    cluster = None
    if args.engine == "pg":
        cluster = PostgresCluster(postgres_bindir()).start()
        cluster.admin("CREATE DATABASE bench")
        url = cluster.url("bench")
    else:
        url = f"sqlite:///{work / 'db.sqlite'}"
    ini = work / "bench.ini"
    ini.write_text(INI.format(url=url))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            cli.main(["-c", str(ini), "initdb"])
        factory = get_session_factory(get_engine(loaded.load(get_appsettings(str(ini)), web=False)))
        with transaction.manager:
            get_tm_session(factory, transaction.manager).add(Programme(code="p2020", name="p"))
        timed(ini, source, "new applications", args.rows, args.profile == "new")
        bank = bank_file(url, work / "bank.csv", args.bank_rows)
        timed(ini, bank, "bank file", args.bank_rows, args.profile == "bank")
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bank-rows", type=int, default=50_000)
    parser.add_argument("--engine", choices=("pg", "sqlite"), default="pg")
    parser.add_argument("--profile", choices=("new", "bank"))
    sys.exit(main(parser.parse_args()))
