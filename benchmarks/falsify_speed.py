"""Benchmark: how long the falsification suite takes on a built corpus (the seven repos),
in-process and as a whole process (as a user runs `corpus falsify`).

    corpus build                                   # once: out/dataset + the clone cache
    python benchmarks/falsify_speed.py [--dataset out/dataset] [--sources-dir CACHE] [--runs 3]

In-process: ``run_suite`` in one process (workers=1) and with the checks registered apart in
a second process (workers=2, what the command runs), excluding interpreter start and
imports. Whole process: ``corpus falsify DATASET --sources-dir CACHE --out TMP`` from start to
exit (imports, reading the corpus, every check with the clones, writing the reports). Prints
medians over the runs, the score, the slowest checks; the report is not written back into
the dataset.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _whole_process(dataset: Path, sources_dir: Path, runs: int) -> list[float]:
    corpus = str(Path(sys.executable).with_name("corpus"))
    times = []
    with tempfile.TemporaryDirectory(prefix="falsify-bench-") as tmp:
        cmd = [corpus, "falsify", str(dataset), "--sources-dir", str(sources_dir), "--out", tmp]
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - t)
    return times


def _fmt(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})"


def main() -> None:
    """Time the suite on an existing build."""
    from corpus.clone import default_cache_dir
    from corpus.defaults import DEFAULT_DATASET
    from falsification import all_checks, run_suite

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    ap.add_argument("--sources-dir", type=Path, default=None, help="clone cache (default: XDG)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sources_dir = args.sources_dir or default_cache_dir()
    report = None
    timing: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.runs):
        for workers in (1, 2):
            t = time.perf_counter()
            report = run_suite(args.dataset, sources_dir, workers=workers)
            timing[workers].append(time.perf_counter() - t)
    assert report is not None
    whole = _whole_process(args.dataset, sources_dir, args.runs)
    print(f"records: {report.records}; score {report.score}/100 {report.verdict}")
    print(f"in-process, one process  : {_fmt(timing[1])}")
    print(f"in-process, two processes: {_fmt(timing[2])}")
    print(f"whole process (corpus falsify): {_fmt(whole)}")
    apart = {c.id for c in all_checks() if c.apart}
    for c in sorted(report.checks, key=lambda c: -c.duration_s)[:6]:
        print(f"  {c.duration_s:6.2f} s  {c.id}{' (apart)' if c.id in apart else ''}")
    for c in report.checks:
        if not c.passed:
            print(f"FAIL {c.id} [{c.severity}] {c.evidence}")


if __name__ == "__main__":
    main()
