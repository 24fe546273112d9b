"""The extractor's process pools: forked workers that die with the process that started them.

``pool_map`` hands items to whichever worker is free. ``affine_map`` is for tasks that need a
costly per-key set-up in the worker that runs them (a checkout's crate model): each worker
keeps to the keys it has set up, takes a key no worker has yet when its own run out, and only
then shares another worker's key, when enough of that key's work is left to repay setting it
up again. Its workers are forked, all of them, before the pool starts any thread or sends
anything (a fork beside a running thread can inherit a lock held forever), and inherit the
task list: through each worker's pipe go only task numbers one way and results the other, so
neither side ever blocks writing while the other does.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from corpus.errors import CorpusError


class WorkerDied(CorpusError):
    """A worker process ended without a result (killed from outside, or out of memory)."""


_DIED = (
    "extraction stopped: a worker process died (killed from outside, or out of memory). "
    "Run it again, or with fewer workers (-j)"
)


class _RemoteTraceback(Exception):
    """Where in the worker an exception raised here came from (its ``__cause__``)."""


@contextmanager
def _one_line_when_a_worker_dies() -> Iterator[None]:
    try:
        yield
    except BrokenProcessPool as exc:
        raise WorkerDied(_DIED) from exc


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


def _serve(
    conn: Any, others: list[Any], fn: Callable[[Any], Any], tasks: Sequence[Keyed], parent: int
) -> None:
    """A worker's life: run the tasks whose numbers arrive, send back each result in turn.
    ``others``: the pool's ends of the pipes, inherited by the fork, closed here so that the
    pool closing its end is seen as the end."""
    import traceback

    from corpus.lifetime import init_worker

    for other in others:
        other.close()
    init_worker(parent, None)
    try:
        while (i := conn.recv()) is not None:
            try:
                reply: tuple = ("ok", fn(tasks[i].item), None)
            except (Exception, SystemExit) as exc:  # sent to the pool, which raises it
                reply = ("err", _sendable(exc), traceback.format_exc())
            try:
                conn.send(reply)
            except (EOFError, OSError):
                raise
            except Exception as exc:  # the result cannot be pickled: say so, not "died"
                conn.send(("err", _sendable(exc), traceback.format_exc()))
    except (EOFError, OSError, KeyboardInterrupt):  # the pool left, or Ctrl-C: it reports
        pass
    os._exit(0)  # nothing of the parent's to tear down


def _sendable(exc: BaseException) -> BaseException:
    """``exc``, or a RuntimeError saying what it was when it cannot be pickled."""
    import pickle
    import traceback

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError("".join(traceback.format_exception_only(exc)).strip())


class _Workers:
    """``n`` forked workers serving ``fn`` over ``tasks``, and the task numbers each has queued
    (in the order sent: each answers in that order)."""

    def __init__(self, fn: Callable[[Any], Any], tasks: Sequence[Keyed], n: int) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        for _ in range(n):  # every fork before the first message: no thread of ours runs yet
            here, there = ctx.Pipe()
            args = (there, [*self.conns, here], fn, tasks, os.getpid())
            proc = ctx.Process(target=_serve, args=args, daemon=True)
            proc.start()
            there.close()
            self.procs.append(proc)
            self.conns.append(here)
        self.queued: list[deque[int]] = [deque() for _ in range(n)]

    def send(self, w: int, i: int) -> None:
        """Queue task ``i`` on worker ``w``."""
        try:
            self.conns[w].send(i)
        except OSError as exc:
            raise WorkerDied(_DIED) from exc
        self.queued[w].append(i)

    def ready(self) -> list[int]:
        """The workers with a reply waiting (blocks until one has)."""
        from multiprocessing.connection import wait

        busy = [c for c, q in zip(self.conns, self.queued, strict=True) if q]
        return [self.conns.index(c) for c in wait(busy)]

    def receive(self, w: int) -> tuple[int, Any]:
        """(task number, result) of worker ``w``'s oldest queued task; its error raised here."""
        try:
            status, value, where = self.conns[w].recv()
        except (EOFError, OSError) as exc:
            raise WorkerDied(_DIED) from exc
        if status == "err":
            raise value from _RemoteTraceback(where)
        return self.queued[w].popleft(), value

    def stop(self, finished: bool) -> None:
        """End every worker: told to when ``finished``, else (an error, or left early) now."""
        for conn in self.conns if finished else ():
            with suppress(OSError):  # a worker that died idle: every result is in
                conn.send(None)
        for proc, conn in zip(self.procs, self.conns, strict=True):
            conn.close()  # the worker reads the end of its pipe, and exits
            proc.join(timeout=5 if finished else 0)
            if proc.is_alive():
                proc.kill()
                proc.join()


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
    An exception in ``fn`` is raised here and the workers stopped at once; a worker that dies
    raises :class:`WorkerDied`.
    """
    n = max(1, n)
    plan = _Plan(tasks, setup, n)
    workers = _Workers(fn, tasks, n)

    def fill(w: int) -> None:
        while len(workers.queued[w]) < depth and (i := plan.next_for(w)) is not None:
            workers.send(w, i)

    finished = False
    try:
        for w in range(n):
            fill(w)
        while any(workers.queued):
            for w in workers.ready():
                yield workers.receive(w)
                fill(w)
        finished = True
    finally:
        workers.stop(finished)
