"""The extractor's process pools: forked workers that die with the process that started them.

``pool_map`` hands items to whichever worker is free. ``affine_map`` is for tasks that need a
costly per-key set-up in the worker that runs them (a checkout's crate model): each worker
keeps to the keys it has set up, takes a key no worker has yet when its own run out, and only
then shares another worker's key, when enough of that key's work is left to repay setting it
up again. Built from one single-process executor per worker, so a task can be sent to the
worker that has its key.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from corpus.errors import CorpusError


class WorkerDied(CorpusError):
    """A worker process ended without a result (killed from outside, or out of memory)."""


@contextmanager
def _one_line_when_a_worker_dies() -> Iterator[None]:
    try:
        yield
    except BrokenProcessPool as exc:
        raise WorkerDied(
            "extraction stopped: a worker process died (killed from outside, or out of "
            "memory); nothing was written. Run it again, or with fewer workers (-j)"
        ) from exc


def _executor(n: int) -> ProcessPoolExecutor:
    import multiprocessing as mp

    # fork: workers inherit the loaded grammar (and any crate model already built), so
    # start-up costs nothing.
    from corpus.lifetime import init_worker

    return ProcessPoolExecutor(
        max_workers=max(1, n),
        mp_context=mp.get_context("fork"),
        initializer=init_worker,
        initargs=(os.getpid(), None),  # workers die with `corpus extract`
    )


def pool_map(fn: Callable[[Any], Any], items: Iterable[Any], n: int) -> Iterator[Any]:
    """``fn`` of each item, in order, from a pool of ``n`` forked workers that die with this
    process (``corpus.lifetime.init_worker``); items are handed out one at a time, first come
    first served."""
    with _one_line_when_a_worker_dies(), _executor(n) as pool:
        yield from pool.map(fn, items)


@dataclass(frozen=True)
class Keyed:
    """One task for :func:`affine_map`: ``fn(item)`` needs ``key`` set up in its worker and
    costs about ``cost`` (any unit, the same as the set-up costs')."""

    key: str
    cost: float
    item: Any


class _Plan:
    """Which task each worker takes next (see the module docstring)."""

    def __init__(self, tasks: Sequence[Keyed], setup: Mapping[str, float], n: int) -> None:
        self.cost = [t.cost for t in tasks]
        self.pending: dict[str, deque[int]] = {}
        for i, t in enumerate(tasks):  # each key's tasks in the order given (largest first)
            self.pending.setdefault(t.key, deque()).append(i)
        self.left = {k: sum(self.cost[i] for i in q) for k, q in self.pending.items()}
        self.setup = {k: setup.get(k, 0.0) for k in self.pending}
        self.keys: list[set[str]] = [set() for _ in range(n)]

    def next_for(self, w: int) -> int | None:
        """The index of the task worker ``w`` should run next, or None when none is worth it."""
        waiting = [k for k, q in self.pending.items() if q]
        mine = [k for k in waiting if k in self.keys[w]]
        taken = set().union(*self.keys)
        free = [k for k in waiting if k not in taken]
        # sharing a key costs its set-up again: worth it while over twice that is left
        shared = [k for k in waiting if self.left[k] > 2 * self.setup[k]]
        if mine:
            k = max(mine, key=self.left.__getitem__)
        elif free:
            k = max(free, key=lambda k: self.left[k] + self.setup[k])
        elif shared:
            k = max(shared, key=self.left.__getitem__)
        else:
            return None
        self.keys[w].add(k)
        # a worker that joins late takes the key's smallest tasks, from the end
        i = self.pending[k].popleft() if mine or free else self.pending[k].pop()
        self.left[k] -= self.cost[i]
        return i


def affine_map(
    fn: Callable[[Any], Any],
    tasks: Sequence[Keyed],
    n: int,
    setup: Mapping[str, float],
    depth: int = 2,
) -> Iterator[tuple[int, Any]]:
    """(index in ``tasks``, ``fn(task.item)``) for every task, as they finish, from ``n``
    forked workers that die with this process; ``setup[key]`` is what setting the key up costs
    a worker. Each worker has up to ``depth`` tasks queued, so it never waits for this process.
    An exception in ``fn`` is raised here, the other tasks cancelled; a worker that dies
    raises :class:`WorkerDied`.
    """
    plan = _Plan(tasks, setup, n)
    pools = [_executor(1) for _ in range(max(1, n))]
    running: dict[Future[Any], tuple[int, int]] = {}  # future -> (worker, task index)

    def fill(w: int) -> None:
        while sum(1 for ww, _ in running.values() if ww == w) < depth:
            i = plan.next_for(w)
            if i is None:
                return
            running[pools[w].submit(fn, tasks[i].item)] = (w, i)

    try:
        with _one_line_when_a_worker_dies():
            for w in range(len(pools)):
                fill(w)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    w, i = running.pop(fut)
                    yield i, fut.result()
                    fill(w)
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
