"""One writer per output folder: `corpus build` and `corpus rebuild` both write `<out>/dataset`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import CorpusError, ExitCode
from corpus.layout import OUT_LOCK, WORKERS_LEASE


class LockedError(CorpusError):
    """Another build or rebuild holds the lock on this output folder."""

    exit_code = ExitCode.LOCKED


@contextmanager
def output_lock(out: Path, command: str) -> Iterator[None]:
    """Hold ``<out>/.corpus.lock`` for the block; raise ``LockedError`` at once if it is taken.

    Never waits for another run: a scheduler's second run should exit (code 4) and leave the
    work to the next one, and a person should learn at once that a rebuild is writing the
    folder. It does wait (up to two minutes) for pool workers of a killed run to exit: they
    die with their driver, and no run may start while one still could write.
    """
    import sys

    from filelock import FileLock, Timeout

    from corpus.lifetime import wait_for_workers

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / OUT_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(
            f"another `corpus build` or `corpus rebuild` is writing {out} (lock "
            f"{out / OUT_LOCK} is held); this `corpus {command}` did nothing"
        ) from None
    try:
        wait_for_workers(out / WORKERS_LEASE, notify=lambda m: print(m, file=sys.stderr))
        yield
    finally:
        lock.release()
