"""The staff app's start is kept out of the garbage collector's full passes, once per
process (intranet._freeze_what_the_start_made)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]

BUILD_TWICE = """
import gc, sys
from intranet import main
settings = {"sqlalchemy.url": "sqlite:///" + sys.argv[1], "session.secret": "s" * 40}
before = gc.get_freeze_count()
main({}, **settings)
first = gc.get_freeze_count()
main({}, **settings)
print(before, first, gc.get_freeze_count())
"""


def test_the_start_is_frozen_once_per_process(tmp_path):
    done = subprocess.run([sys.executable, "-c", BUILD_TWICE, str(tmp_path / "heap.sqlite")],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    before, first, second = map(int, done.stdout.split())
    # Modules, classes, routes: tens of thousands of objects no full pass walks again.
    assert before == 0 and first > 20_000
    # A second app (a test process builds many) freezes nothing more: what a freeze holds
    # is never collected. (The count may fall: a frozen object freed by its last reference.)
    assert second <= first
