"""The local executor: a process pool on this machine (or in-process with one worker)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import partial
from pathlib import Path
from typing import Any

from corpus.lifetime import init_worker
from pipelines.executors.base import (
    Executor,
    OnDone,
    Unit,
    UnitFailed,
    UnitOutcome,
    run_marked,
)


class LocalExecutor(Executor):
    """Units in a pool of ``workers`` processes (0: one per CPU; 1: in this process).

    Workers die with this process and, given a ``lease`` file, share-lock it for their whole
    life (see ``corpus.lifetime``): a later run waits until none is alive.
    """

    name = "local"

    def __init__(self, workers: int = 0, lease: Path | None = None) -> None:
        if workers < 0:
            from corpus.errors import BadInputError

            raise BadInputError(f"--workers must be 0 (one per CPU) or more, not {workers}")
        self.workers = workers or (os.cpu_count() or 1)
        self.lease = lease

    def map_units(
        self, fn: Callable[[Any], Any], units: Sequence[Unit], on_done: OnDone | None = None
    ) -> list[UnitOutcome]:
        """Run every unit; failures are collected and raised together at the end."""
        outcomes: dict[str, UnitOutcome] = {}
        failures: dict[str, str] = {}
        if self.workers == 1 or len(units) <= 1:
            for u in units:
                try:
                    outcomes[u.key] = run_marked(fn, u)
                except Exception as exc:
                    failures[u.key] = f"{type(exc).__name__}: {exc}"
                if on_done:
                    on_done(u.key)
        else:
            # spawn, not fork: the parent may hold threads (polars, git) that fork would copy.
            ctx = multiprocessing.get_context("spawn")
            lease = str(self.lease) if self.lease is not None else None
            with ProcessPoolExecutor(
                min(self.workers, len(units)),
                mp_context=ctx,
                initializer=init_worker,
                initargs=(os.getpid(), lease),
            ) as pool:
                pending: dict[Future[UnitOutcome], str] = {
                    pool.submit(partial(run_marked, fn, u)): u.key for u in units
                }
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        key = pending.pop(fut)
                        try:
                            outcomes[key] = fut.result()
                        except Exception as exc:
                            failures[key] = f"{type(exc).__name__}: {exc}"
                        if on_done:
                            on_done(key)
        if failures:
            raise UnitFailed(failures)
        return [outcomes[u.key] for u in units]
