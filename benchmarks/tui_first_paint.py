"""First paint of `corpus tui`, the whole process as a user runs it, in a real terminal (a pty).

Usage: python benchmarks/tui_first_paint.py [DATASET] [--runs N] [--size COLSxROWS]

Without DATASET it builds 21,000 synthetic records first. Each run starts `corpus tui DATASET`
as a fresh process on a pseudo-terminal of the given size (default 160x48) and reads what it
draws; the clock starts just before the process is spawned, so interpreter start-up, the CLI's
imports and Textual's set-up are all counted. Two moments are timed:

- first frame: the header line ("rustdoc-corpus · Records") has been written to the terminal;
- rows painted: the record count ("N records") is on screen, i.e. the corpus is loaded and shown.

Then `q` is sent and the process must exit 0. Target: first frame <= 600 ms on a quiet machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import signal
import statistics
import struct
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: CSI / OSC escape sequences: dropped before looking for text, which styles may split.
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<=>$ ]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b.")
FIRST_FRAME = b"rustdoc-corpus"
ROWS_PAINTED = re.compile(rb"\d[\d,]* records")


def _corpus_command(dataset: Path) -> list[str]:
    script = Path(sys.executable).with_name("corpus")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "corpus.cli"]
    return [*head, "tui", str(dataset)]


def _spawn(argv: list[str], cols: int, rows: int) -> tuple[int, int]:
    """Fork ``argv`` onto a new pty of ``cols`` x ``rows``; (pid, master fd)."""
    pid, fd = os.forkpty()
    if pid == 0:  # the child: a terminal of the right size, then exec
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        env.pop("CI", None)
        os.execvpe(argv[0], argv, env)
    return pid, fd


def _read_until(fd: int, seen: bytearray, want, deadline: float) -> float | None:
    """Read the pty until ``want`` (bytes or regex) is in the text; the time it appeared."""
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return None
        if not chunk:
            return None
        seen.extend(chunk)
        text = _ESCAPES.sub(b"", bytes(seen))
        found = want in text if isinstance(want, bytes) else want.search(text)
        if found:
            return time.perf_counter()
    return None


def _drain_until_exit(pid: int, fd: int, deadline: float) -> int:
    while time.perf_counter() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            with contextlib.suppress(OSError):
                os.read(fd, 65536)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -9


def one_run(dataset: Path, cols: int, rows: int, timeout: float = 30.0) -> dict[str, float]:
    """Time one `corpus tui DATASET` from spawn to first frame and to rows painted."""
    argv = _corpus_command(dataset)
    t0 = time.perf_counter()
    pid, fd = _spawn(argv, cols, rows)
    seen = bytearray()
    deadline = t0 + timeout
    first = _read_until(fd, seen, FIRST_FRAME, deadline)
    painted = _read_until(fd, seen, ROWS_PAINTED, deadline)
    os.write(fd, b"q")
    code = _drain_until_exit(pid, fd, time.perf_counter() + 10)
    os.close(fd)
    if first is None or painted is None or code != 0:
        tail = _ESCAPES.sub(b"", bytes(seen))[-400:].decode("utf-8", "replace")
        raise SystemExit(f"run failed (exit {code}); the terminal showed: {tail!r}")
    return {"first_frame_s": first - t0, "rows_painted_s": painted - t0}


def _arg(flag: str, default: str) -> str:
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else default


def main() -> None:
    runs = int(_arg("--runs", "5"))
    cols, rows = (int(x) for x in _arg("--size", "160x48").split("x"))
    values = {_arg("--runs", ""), _arg("--size", "")}
    args = [a for a in sys.argv if not a.startswith("--") and a not in values]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _tui_data import dataset_from_args

    dataset, described = dataset_from_args(args)
    one_run(dataset, cols, rows)  # warm-up: file caches, .pyc files
    results = [one_run(dataset, cols, rows) for _ in range(runs)]
    print(f"dataset: {described}")
    print(f"terminal {cols}x{rows}; runs: {runs} (a fresh `corpus tui` process each)")
    for key, label in (("first_frame_s", "first frame"), ("rows_painted_s", "rows painted")):
        vals = sorted(r[key] * 1000 for r in results)
        print(
            f"{label:14s} min {vals[0]:7.1f} ms   median {statistics.median(vals):7.1f} ms   "
            f"max {vals[-1]:7.1f} ms"
        )
    worst = statistics.median(r["first_frame_s"] for r in results)
    print(f"target: first frame (median) <= 600 ms -> {'OK' if worst <= 0.6 else 'MISSED'}")


if __name__ == "__main__":
    main()
