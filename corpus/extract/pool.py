"""The extractor's process pool: forked workers that die with the process that started them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def pool_map(fn: Callable[[Any], Any], items: Iterable[Any], n: int) -> Iterator[Any]:
    """``fn`` of each item, in order, from a pool of ``n`` forked workers that die with this
    process (``corpus.lifetime.init_worker``); items are handed out one at a time, first come
    first served."""
    import multiprocessing as mp

    # fork: workers inherit the loaded grammar and crate models, so start-up costs nothing.
    from corpus.lifetime import init_worker

    pool = ProcessPoolExecutor(
        max_workers=max(1, n),
        mp_context=mp.get_context("fork"),
        initializer=init_worker,
        initargs=(os.getpid(), None),  # workers die with `corpus extract`
    )
    with pool:
        yield from pool.map(fn, items)
