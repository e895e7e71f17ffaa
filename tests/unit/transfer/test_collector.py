"""The garbage collector as this project's processes use it (transfer.collector): what the
start made frozen out of its walks, once per process; commands walk the young generation
less often. Each case runs in a fresh interpreter, where nothing was frozen before."""

import subprocess
import sys
from pathlib import Path

import pytest

from transfer import collector

ROOT = Path(__file__).parents[3]

STAFF_APP_TWICE = """
import gc, sys, weakref
from intranet import main
settings = {"sqlalchemy.url": "sqlite:///" + sys.argv[1], "session.secret": "s" * 40}
# Garbage the collector has not reached yet (a cycle, as a test leaves an engine behind):
# the freeze must not keep it forever.
gc.disable()
class Cycle: pass
cycle = Cycle(); cycle.itself = cycle
collected = []
weakref.finalize(cycle, collected.append, 1)
del cycle
before = gc.get_freeze_count()
main({}, **settings)
first = gc.get_freeze_count()
gc.enable()
main({}, **settings)
print("counted:", before, first, gc.get_freeze_count(), len(collected), gc.get_threshold()[0])
"""

COMMAND = """
import gc, sys
from {module} import main
before = gc.get_freeze_count()
try:
    main(["--help"])
except SystemExit:
    pass
print("counted:", before, gc.get_freeze_count(), gc.get_threshold()[0])
"""


def _run(code: str, *args: str) -> list[int]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    # The last line (a command's --help comes before it).
    return [int(word) for word in done.stdout.rpartition("counted:")[2].split()]


def test_the_staff_app_freezes_its_start_once_per_process(tmp_path):
    before, first, second, collected, _ = _run(STAFF_APP_TWICE, str(tmp_path / "heap.sqlite"))
    # Modules, classes, routes: tens of thousands of objects no walk reads again.
    assert before == 0 and first > 20_000
    # A second app (a test process builds many) freezes nothing more: what a freeze holds
    # is never collected. (The count may fall: a frozen object freed by its last reference.)
    assert second <= first
    # What was already garbage was collected, not frozen.
    assert collected == 1


def test_a_server_walks_the_young_as_python_does(tmp_path):
    assert _run(STAFF_APP_TWICE, str(tmp_path / "heap.sqlite"))[-1] == 700


@pytest.mark.parametrize("module", ["intranet.cli", "transfer.cli"])
def test_a_command_freezes_its_start_and_walks_the_young_less_often(module):
    before, frozen, threshold = _run(COMMAND.format(module=module))
    assert before == 0 and frozen > 10_000
    assert threshold == collector.BULK_THRESHOLD
