"""The extractor's affinity pool: which worker takes which task, and the real pool's results,
errors and dead workers."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.extract.pool import Keyed, WorkerDied, _Plan, affine_map, pool_map

KEYS = "abcdefg"


def _drain(plan: _Plan, n: int, order: list[int]) -> list[tuple[int, int]]:
    """(worker, task) as workers ask in turn (``order`` repeated) until every one gets None."""
    out: list[tuple[int, int]] = []
    idle: set[int] = set()
    step = 0
    while len(idle) < n:
        w = order[step % len(order)]
        step += 1
        if w in idle:
            continue
        i = plan.next_for(w)
        if i is None:
            idle.add(w)
        else:
            out.append((w, i))
    return out


tasks_st = st.lists(
    st.tuples(st.sampled_from(KEYS), st.integers(1, 1000)), min_size=1, max_size=40
).map(lambda ts: [Keyed(k, c, None) for k, c in ts])


@settings(max_examples=300, deadline=None)
@given(
    tasks=tasks_st,
    n=st.integers(1, 4),
    setup=st.dictionaries(st.sampled_from(KEYS), st.integers(0, 5000)),
    order=st.lists(st.integers(0, 3), min_size=1, max_size=12),
)
def test_every_task_is_handed_out_once_and_a_key_is_shared_only_when_it_pays(
    tasks: list[Keyed], n: int, setup: dict[str, int], order: list[int]
) -> None:
    order = [w % n for w in order] + list(range(n))  # every worker asks, some more often
    plan = _Plan(tasks, setup, n)
    handed = _drain(plan, n, order)
    assert sorted(i for _, i in handed) == list(range(len(tasks)))
    # replay: a worker takes a key another holds only when no key is free and over twice
    # the key's set-up is left; and each key's tasks go out in order to its first taker
    replay = _Plan(tasks, setup, n)
    for w, i in handed:
        k = tasks[i].key
        holders = {x for x, keys in enumerate(replay.keys) if k in keys}
        if holders and w not in holders:
            waiting = {kk for kk, q in replay.pending.items() if q}
            assert not waiting - set().union(*replay.keys)
            assert replay.left[k] > 2 * setup.get(k, 0)
        assert replay.next_for(w) == i


def test_keys_are_spread_over_the_workers_largest_first() -> None:
    sizes = {"tokio": 40, "clap": 25, "syn": 15, "serde": 10, "bat": 5, "fd": 1}
    tasks = [Keyed(k, 1.0, None) for k, s in sizes.items() for _ in range(s)]
    plan = _Plan(tasks, {k: s / 6 for k, s in sizes.items()}, 2)
    first = [(w, plan.next_for(w)) for w in (0, 1)]
    assert [tasks[i].key for _, i in first] == ["tokio", "clap"]
    handed = first + _drain(plan, 2, [0, 1])
    set_ups = {(w, tasks[i].key) for w, i in handed}
    assert len(set_ups) == len(sizes)  # each checkout's model built once


def test_one_large_key_is_shared_by_every_worker_and_a_small_one_is_not() -> None:
    big = [Keyed("only", 10.0, None) for _ in range(20)]
    plan = _Plan(big, {"only": 30.0}, 3)
    handed = _drain(plan, 3, [0, 1, 2])
    assert {w for w, _ in handed} == {0, 1, 2}
    small = [Keyed("only", 10.0, None) for _ in range(4)]
    plan = _Plan(small, {"only": 30.0}, 3)
    assert {w for w, _ in _drain(plan, 3, [0, 1, 2])} == {0}


def _whoami(item: tuple[str, int]) -> tuple[str, int, int]:
    key, x = item
    return key, x * x, os.getpid()


def test_affine_map_runs_every_task_once_each_key_in_one_worker() -> None:
    tasks = [Keyed(k, 1.0, (k, i)) for i, k in enumerate("aaaabbbbccccdddd")]
    # setting a key up costs more than all its work: no key is shared
    got = dict(affine_map(_whoami, tasks, 2, {k: 100.0 for k in "abcd"}))
    assert sorted(got) == list(range(len(tasks)))
    assert all(got[i][:2] == (t.key, i * i) for i, t in enumerate(tasks))
    pids = {k: {pid for key, _, pid in got.values() if key == k} for k in "abcd"}
    assert all(len(p) == 1 for p in pids.values())
    assert len(set().union(*pids.values())) == 2 and os.getpid() not in pids["a"]


def _fails(item: int) -> int:
    if item == 3:
        raise ValueError("task 3 is bad")
    return item


def _dies(item: int) -> int:
    if item == 3:
        os._exit(7)
    return item


def test_an_exception_in_a_task_is_raised_here() -> None:
    tasks = [Keyed("k", 1.0, i) for i in range(8)]
    with pytest.raises(ValueError, match="task 3 is bad"):
        list(affine_map(_fails, tasks, 2, {}))


def test_a_worker_that_dies_stops_the_map_with_one_line_instead_of_hanging_it() -> None:
    tasks = [Keyed("k", 1.0, i) for i in range(8)]
    for run in (
        lambda: list(affine_map(_dies, tasks, 2, {})),
        lambda: list(pool_map(_dies, range(8), 2)),
    ):
        with pytest.raises(WorkerDied, match=r"a worker process died .* fewer workers") as e:
            run()
        assert e.value.exit_code == 1 and "\n" not in str(e.value)


def _slow_unless_first(item: int) -> int:
    if item == 0:
        raise OSError("task 0 is bad")  # an OSError of the task's own, not a dead worker
    time.sleep(5)
    return item


def test_an_error_is_raised_at_once_and_no_worker_is_left() -> None:
    tasks = [Keyed("k", 1.0, i) for i in range(6)]
    t0 = time.monotonic()
    with pytest.raises(OSError, match="task 0 is bad") as e:
        list(affine_map(_slow_unless_first, tasks, 2, {}))
    assert time.monotonic() - t0 < 3  # not after the other workers' 5 s tasks
    assert not isinstance(e.value, WorkerDied)
    assert "_slow_unless_first" in str(e.value.__cause__)  # where in the worker it came from
    assert multiprocessing.active_children() == []


def test_a_map_left_early_stops_its_workers() -> None:
    tasks = [Keyed("k", 1.0, i) for i in range(8)]
    it = affine_map(_fails, tasks[:3], 2, {})
    next(it)
    it.close()
    assert multiprocessing.active_children() == []


_THREADS_AT_FORK: list[int] = []
os.register_at_fork(before=lambda: _THREADS_AT_FORK.append(threading.active_count()))


def test_every_worker_is_forked_before_any_thread_runs() -> None:
    tasks = [Keyed(k, 1.0, (k, i)) for i, k in enumerate("abcdabcd")]
    before = threading.active_count()
    _THREADS_AT_FORK.clear()
    assert len(dict(affine_map(_whoami, tasks, 4, {}))) == len(tasks)
    assert len(_THREADS_AT_FORK) == 4 and set(_THREADS_AT_FORK) == {before}


def test_no_workers_asked_means_one() -> None:
    tasks = [Keyed("k", 1.0, ("k", i)) for i in range(3)]
    got = dict(affine_map(_whoami, tasks, 0, {}))
    assert sorted(got) == [0, 1, 2] and len({pid for _, _, pid in got.values()}) == 1


def test_leaving_after_the_last_result_does_not_wait_for_the_workers() -> None:
    tasks = [Keyed(k, 1.0, (k, i)) for i, k in enumerate("abcd")]
    it = affine_map(_whoami, tasks, 4, {})
    for _ in tasks:
        next(it)
    t0 = time.monotonic()
    it.close()
    assert time.monotonic() - t0 < 2 and multiprocessing.active_children() == []


def test_a_worker_that_dies_idle_costs_no_result() -> None:
    # setting the key up costs more than all of it: one worker works, the others wait idle
    tasks = [Keyed("k", 1.0, ("k", i)) for i in range(6)]
    it = affine_map(_whoami, tasks, 3, {"k": 100.0})
    got = [next(it)]
    busy = got[0][1][2]
    for child in multiprocessing.active_children():
        if child.pid != busy:
            os.kill(child.pid, 9)
            child.join()
    got += list(it)
    assert sorted(i for i, _ in got) == list(range(6))


def _unpicklable(item: int) -> object:
    return lambda: item


def test_a_result_that_cannot_be_sent_says_so_instead_of_a_dead_worker() -> None:
    with pytest.raises(Exception, match="pickle") as e:
        list(affine_map(_unpicklable, [Keyed("k", 1.0, 1)], 1, {}))
    assert not isinstance(e.value, WorkerDied)
