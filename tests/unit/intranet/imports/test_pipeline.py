"""The import's database work in order: Background runs every task on one thread in the
order given (so a lookup asked for ahead runs before the write given after it), keeps the
first failure and never runs a task behind it; Inline runs a lookup only when its answer is
asked for, after every write given before."""

import threading

import pytest

from intranet.imports.pipeline import Background, Inline


def recorder(done, name, result=None, gate=None):
    def task(*args):
        if gate is not None:
            gate.wait(5)
        done.append((name, threading.current_thread().name))
        return result
    return task


def test_background_runs_tasks_in_the_order_given_on_one_thread_of_its_own():
    done, gate = [], threading.Event()
    runner = Background()
    try:
        first = runner.look_up(recorder(done, "lookup 1", "found 1", gate))
        runner.submit(recorder(done, "write 0"))
        second = runner.look_up(recorder(done, "lookup 2", "found 2"))
        runner.submit(recorder(done, "write 1"))
        assert done == []               # the caller went on: nothing waited for the gate
        gate.set()
        assert first.result() == "found 1" and second.result() == "found 2"
        runner.wait()
    finally:
        runner.close()
    assert [name for name, _ in done] == ["lookup 1", "write 0", "lookup 2", "write 1"]
    assert {thread for _, thread in done} != {threading.current_thread().name}
    assert len({thread for _, thread in done}) == 1


def test_after_a_failed_write_nothing_queued_runs_and_every_wait_raises_its_error():
    done, gate = [], threading.Event()
    runner = Background()

    def failing():
        gate.wait(5)
        raise RuntimeError("disk full")

    try:
        runner.submit(failing)
        lookup = runner.look_up(recorder(done, "lookup"))
        runner.submit(recorder(done, "write"))
        gate.set()
        with pytest.raises(RuntimeError, match="disk full"):
            lookup.result()             # the lookup queued behind it: the write's error
        with pytest.raises(RuntimeError, match="disk full"):
            runner.wait()
        runner.submit(recorder(done, "later"))
        with pytest.raises(RuntimeError, match="disk full"):
            runner.wait()
    finally:
        runner.close()
    assert done == []


def test_writes_waiting_their_turn_are_bounded():
    """The caller is held back once three writes wait: memory stays a few chunks."""
    gate, done = threading.Event(), []
    runner = Background()
    held = threading.Event()

    def caller():
        for n in range(6):
            runner.submit(recorder(done, f"write {n}", gate=gate))
        held.set()

    thread = threading.Thread(target=caller)
    thread.start()
    try:
        assert not held.wait(0.3)       # the fourth write waits for the gate
        gate.set()
        thread.join(5)
        runner.wait()
    finally:
        runner.close()
    assert [name for name, _ in done] == [f"write {n}" for n in range(6)]


def test_close_drops_tasks_not_started_and_lets_the_one_under_way_finish():
    gate, started, done = threading.Event(), threading.Event(), []
    runner = Background()
    under_way = recorder(done, "under way", gate=gate)
    runner.submit(lambda: started.set() or under_way())
    runner.submit(recorder(done, "not started"))
    assert started.wait(5)              # the thread has taken the first task
    threading.Timer(0.2, gate.set).start()
    runner.close()
    assert [name for name, _ in done] == ["under way"]


def test_inline_writes_at_once_and_looks_up_when_asked():
    done = []
    runner = Inline()
    lookup = runner.look_up(recorder(done, "lookup", "found"))
    runner.submit(recorder(done, "write"))
    assert [name for name, _ in done] == ["write"]
    assert lookup.result() == "found"
    assert [name for name, _ in done] == ["write", "lookup"]
