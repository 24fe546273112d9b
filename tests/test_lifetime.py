"""Workers live only while their run does; a rerun waits for an older run's workers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from corpus.lifetime import WorkersAliveError, wait_for_workers

ROOT = Path(__file__).resolve().parent.parent


def _holder(lease: Path, seconds: float) -> subprocess.Popen:
    """A process that share-locks ``lease`` (as a worker does) for ``seconds``."""
    code = textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(lease)!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_SH)
        print("locked", flush=True)
        time.sleep({seconds})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_rerun_waits_for_a_live_worker_then_gives_up_with_exit_4(tmp_path: Path) -> None:
    lease = tmp_path / ".corpus.workers.lock"
    holder = _holder(lease, 30)
    try:
        said: list[str] = []
        start = time.monotonic()
        with pytest.raises(WorkersAliveError) as err:
            wait_for_workers(lease, timeout=0.5, notify=said.append)
        assert time.monotonic() - start >= 0.5
        assert err.value.exit_code == 4 and str(lease) in str(err.value)
        assert len(said) == 1 and "waiting for the workers of an earlier run" in said[0]
    finally:
        holder.kill()
        holder.wait()
    wait_for_workers(lease, timeout=5)  # the holder is dead: the kernel released its lock


def test_a_rerun_starts_as_soon_as_the_old_worker_exits(tmp_path: Path) -> None:
    lease = tmp_path / "lease"
    holder = _holder(lease, 1.0)
    start = time.monotonic()
    wait_for_workers(lease, timeout=30)
    assert 0.5 < time.monotonic() - start < 20
    holder.wait()


WORKER = """
import sys, time
from corpus.lifetime import init_worker, may_write
init_worker(int(sys.argv[1]), None)
open(sys.argv[2], "w").write(f"alive-may-write={may_write()}\\n")
print("ready", flush=True)
time.sleep(30)
open(sys.argv[2], "a").write("survived\\n")
"""

MIDDLE = """
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, sys.argv[1], str(os.getpid()), sys.argv[2]],
                         stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print(child.pid, flush=True)
time.sleep(0.3)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_worker_whose_parent_dies_exits_on_its_own(tmp_path: Path) -> None:
    # A "worker" (init_worker with its parent's pid) whose parent is then killed must exit
    # by itself: nobody is left to stop it.
    (tmp_path / "worker.py").write_text(WORKER)
    (tmp_path / "middle.py").write_text(MIDDLE)
    report = tmp_path / "report.txt"
    env_cmd = [
        sys.executable,
        str(tmp_path / "middle.py"),
        str(tmp_path / "worker.py"),
        str(report),
    ]
    middle = subprocess.Popen(env_cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert middle.stdout is not None
    worker_pid = int(middle.stdout.readline())
    middle.wait()
    deadline = time.monotonic() + 10
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker_pid), "the worker outlived its parent"
    assert report.read_text() == "alive-may-write=True\n"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper has ended)."""
    try:
        return ") Z " not in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
