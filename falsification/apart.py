"""The second process of ``run_suite(workers=2)``: the checks registered ``apart``, run on a
context of their own, their results sent back through a pipe.

A fresh interpreter (``python -c``), not a fork (the corpus is read with polars, whose thread
pool does not survive a fork) nor a multiprocessing spawn (which would re-run the caller's
``__main__`` script). It dies with the suite's process (``corpus.lifetime.init_worker``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys

from falsification.report import CheckResult

_BOOT = "import sys; sys.path[:0] = {path!r}; from falsification.apart import main; main({fd})"


class ApartFailed(Exception):
    """The second process ended without sending results (killed, crashed)."""


class Apart:
    """A running second process; :meth:`result` waits for its results."""

    def __init__(self, proc: subprocess.Popen, read_fd: int) -> None:
        self.proc, self.read_fd = proc, read_fd

    def result(self) -> dict[str, CheckResult]:
        """The checks' results by id (``ApartFailed`` when there are none)."""
        with os.fdopen(self.read_fd, "rb") as f:
            self.read_fd = -1
            data = f.read()
        if self.proc.wait() != 0 or not data:
            raise ApartFailed(f"exit status {self.proc.returncode}")
        return pickle.loads(data)

    def send(self, job: tuple) -> None:
        """Hand the process its job (``OSError`` when it died)."""
        assert self.proc.stdin is not None
        with self.proc.stdin:
            pickle.dump(job, self.proc.stdin)

    def close(self) -> None:
        """Stop the process if it still runs, and release the pipe."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):  # a job half written to a process now dead
                self.proc.stdin.close()
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1

    def __enter__(self) -> Apart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spawn() -> Apart:
    """Start the second process (``OSError`` when it cannot start); it imports the suite,
    then waits for its job (:meth:`Apart.send`)."""
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT.format(path=list(sys.path), fd=write_fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=(write_fd,),
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return Apart(proc, read_fd)


def main(fd: int) -> None:
    """The second process: read the job from stdin, write the results to ``fd``."""
    from corpus.lifetime import init_worker
    from falsification.context import SuiteContext  # noqa: F401  (imported while it waits)
    from falsification.registry import all_checks
    from falsification.suite import run_checks

    all_checks()
    try:
        job = pickle.load(sys.stdin.buffer)
    except EOFError:  # the suite had nothing for it
        return
    parent, dataset, sources_dir, seed, options, ids = job
    init_worker(parent, None)
    try:
        results = run_checks(dataset, sources_dir, seed, options, ids)
    except Exception:  # an unreadable corpus, or a bug: the suite reruns these checks itself,
        sys.exit(1)  # and what they raise there is what the user sees (once, not twice)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(results, f)
    # Tearing down an interpreter that holds the corpus takes ~0.4 s, and the suite waits for
    # the exit status: nothing is left to flush, so leave at once.
    sys.stderr.flush()
    os._exit(0)
