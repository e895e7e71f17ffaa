"""What an .xlsx import costs, legitimate and hostile (issue 25 item 4).

Makes a 100,000-row × 20-column list as a municipal system would hand it over — once written
by openpyxl, once saved by LibreOffice Calc from the same CSV (when ``soffice`` is there) —
prints its zip figures (compressed size, parts, each part's inflated size and ratio), then
reads it through the import's workbook reader in a child process (time, peak RSS). Then the
same for the zip bomb of lab/hostile_workbooks.py (1 MB inflating to 1 GiB), which must be
refused in well under a second.

    .venv/bin/python bench/xlsx_bench.py [--rows 100000] [--keep DIR] [--before CHECKOUT]
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.import_files import HEADER

ROOT = Path(__file__).resolve().parents[1]

EXTRA = ["世帯番号", "担当者", "地区コード", "区分", "支給額", "確認者", "連絡メモ"]

CHILD = """
import resource, sys, time
from pathlib import Path
from intranet.imports import workbook
from intranet.imports.errors import ImportRefused
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF)
cpu_before = before.ru_utime + before.ru_stime
started = time.perf_counter()
rows = cells = 0
try:
    for _number, values in workbook.records(data):
        rows += 1
        cells += len(values)
    outcome = f"read {rows:,} rows, {cells:,} cells"
except ImportRefused as refused:
    outcome = f"refused: {refused}"
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu_before
print(f"{seconds:.2f} s ({cpu:.2f} s CPU), peak RSS {usage.ru_maxrss / 1024:.0f} MB, {outcome}")
"""


def row(n):
    return [f"{n // 10000:04d}-{n % 10000:04d}" if n % 2 else f"{n:08d}",
            f"髙橋　太郎{n % 997}", "タカハシ　タロウ", date(1980, 1 + n % 12, 1 + n % 28),
            f"中央区{n % 50}丁目{n % 30}番{n % 17}号", f"042-{n % 1000:03d}-{n % 10000:04d}",
            date(2020, 6, 1 + n % 30), "郵送", "受付済", None, None, None,
            f"㈱テスト 備考 {n}" if n % 3 == 0 else None,
            f"{700000 + n}", f"職員{n % 40}", f"{n % 120:03d}", "一般", 100000 + (n % 5) * 1000,
            f"確認者{n % 7}", "電話済" if n % 5 == 0 else None]


def write_openpyxl(path: Path, rows: int):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("申請一覧")
    sheet.append(HEADER + EXTRA)
    for n in range(rows):
        sheet.append(row(n))
    book.save(path)


def write_libreoffice(path: Path, rows: int) -> bool:
    """The same rows saved by LibreOffice Calc from a UTF-8 CSV (dates typed as dates)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return False
    source = path.with_suffix(".csv")
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER + EXTRA)
        for n in range(rows):
            writer.writerow(["" if v is None else v.strftime("%Y/%m/%d") if isinstance(v, date)
                             else v for v in row(n)])
    # 44=comma, 34=quote, 76=UTF-8, 1=first line; column 1 as text keeps leading zeros.
    subprocess.run([soffice, "--headless", "--infilter=CSV:44,34,76,1,1/2", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(path.parent), str(source)],
                   check=True, capture_output=True, timeout=600)
    source.with_suffix(".xlsx").rename(path)
    return True


def figures(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        lines = [f"{path.name}: {path.stat().st_size / 2**20:.1f} MB on disk, {len(infos)} parts, "
                 f"{sum(i.file_size for i in infos) / 2**20:.1f} MB inflated"]
        for info in sorted(infos, key=lambda i: -i.file_size)[:4]:
            ratio = info.file_size / max(info.compress_size, 1)
            lines.append(f"  {info.filename}: {info.file_size / 2**20:.1f} MB, ratio {ratio:.1f}")
    return "\n".join(lines)


def read(path: Path, code: Path = ROOT) -> str:
    """Read through the workbook reader of the tree at ``code`` (``--before`` compares
    another checkout, e.g. one without the checks)."""
    result = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                            text=True, cwd=code, env={**os.environ, "PYTHONPATH": str(code)},
                            timeout=1200)
    return (result.stdout or result.stderr[-2000:]).strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--before", type=Path, help="another checkout to read with, first")
    args = parser.parse_args()
    from lab.hostile_workbooks import zip_bomb

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        made = {"openpyxl": folder / "openpyxl.xlsx", "LibreOffice": folder / "libreoffice.xlsx"}
        write_openpyxl(made["openpyxl"], args.rows)
        if not write_libreoffice(made["LibreOffice"], args.rows):
            del made["LibreOffice"]
        bomb = folder / "bomb.xlsx"
        bomb.write_bytes(zip_bomb())
        made["zip bomb"] = bomb
        for name, path in made.items():
            print(f"{name}\n{figures(path)}")
            if args.before:
                print(f"  read before: {read(path, args.before)}")
            print(f"  read: {read(path)}")


if __name__ == "__main__":
    main()
