"""How this project's processes use Python's garbage collector.

Python finds reference cycles by walking the objects it tracks: the youngest after every
700 new ones, then, every so often, all of them. A process here makes its code once
(modules, classes, the app) and then makes and drops rows by the million. Each full walk
read again everything the start made, and the young walks ran every few rows: a bank file
of 50,000 rows into SQLite spent 0.5 s of 4.6 s in the collector, and the staff app paused
120-165 ms on about one page in thirty (docs/performance.md). A row's objects are freed
by reference counting as soon as they are dropped; the collector is only for cycles.
"""

import gc

# Young objects made before the young generation is walked, in a command (Python's is 700):
# cyclic garbage waits a little longer, and a chunk of rows is walked a few times, not
# a hundred.
BULK_THRESHOLD = 10_000


def freeze_the_start() -> None:
    """Move everything made until now (it lives as long as the process) out of every walk.
    What a freeze holds is never collected: garbage is collected first (a command's start
    leaves a few dozen objects, 20-35 ms; a test process, what its earlier tests dropped —
    an engine, a connection), and it is done once per process (a test process builds many
    apps and runs many commands): nothing more once anything is frozen."""
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()


def for_bulk_work() -> None:
    """A command's process: the start frozen, the young generation walked less often."""
    freeze_the_start()
    gc.set_threshold(BULK_THRESHOLD, *gc.get_threshold()[1:])
