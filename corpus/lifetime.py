"""Worker processes live and write only while the run that started them does.

A build's pool workers write shards and their markers themselves (so a finished unit stays
finished if the driver dies). After a ``kill -9`` of the driver they must not live on, still
writing, beside the next run. Three layers, each enough on its own for the common case:

- **die with the parent**: on Linux the kernel sends the worker SIGKILL when its parent
  exits (``PR_SET_PDEATHSIG``); everywhere a watchdog thread exits the worker once its parent
  is gone (re-parented: ``getppid()`` changed), and a worker whose parent died before it
  started exits at once;
- **no marker after the lease is lost**: a worker checks its parent is still the driver before
  it writes a marker (:func:`may_write`), so a straggler can never vouch for a shard;
- **a rerun waits for the old workers**: every worker holds a shared ``flock`` on the output
  folder's lease file for its whole life, and :func:`wait_for_workers` (called with the
  output lock held) takes it exclusively before a run starts — the kernel releases a lock
  only when its holder is dead, so a rerun never overlaps a live worker of an older run.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from corpus.errors import CorpusError, ExitCode

_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 0.2

#: Set in a worker by :func:`init_worker`: the driver's pid (None in the driver itself).
_parent_pid: int | None = None
#: The lease file kept open (and share-locked) for the worker's life.
_lease_fd: int | None = None


class WorkersAliveError(CorpusError):
    """Workers of an earlier run of this output folder are still alive."""

    exit_code = ExitCode.LOCKED


def init_worker(parent_pid: int, lease: str | None) -> None:
    """Pool initializer: tie this worker's life to ``parent_pid`` and hold ``lease`` shared."""
    global _parent_pid, _lease_fd
    _parent_pid = parent_pid
    _die_with_parent(parent_pid)
    if lease is not None:
        import fcntl

        _lease_fd = os.open(lease, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(_lease_fd, fcntl.LOCK_SH)


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog below still works
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def may_write() -> bool:
    """Whether this process may still write markers: always in the driver; in a worker,
    only while the driver that started it (and holds the output lock) is alive."""
    return _parent_pid is None or os.getppid() == _parent_pid


def wait_for_workers(
    lease: Path, timeout: float = 120.0, notify: Callable[[str], None] | None = None
) -> None:
    """Return once no worker of an earlier run holds ``lease``; ``WorkersAliveError`` (exit 4)
    if some still do after ``timeout`` seconds. Call it with the output lock held."""
    import fcntl

    lease.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lease, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WorkersAliveError(
                        f"workers of an earlier run still hold {lease} after {timeout:.0f} s; "
                        "this run did nothing (stop them, or rerun once they exit)"
                    ) from None
                if notify is not None and not told:
                    notify(f"waiting for the workers of an earlier run to exit ({lease})")
                    told = True
                time.sleep(0.1)
    finally:
        os.close(fd)
