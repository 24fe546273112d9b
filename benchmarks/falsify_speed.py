"""Benchmark: how long the falsification suite takes on a built corpus (the seven repos).

    corpus build                                   # once: out/dataset + the clone cache
    python benchmarks/falsify_speed.py [--dataset out/dataset] [--sources-dir CACHE] [--runs 3]

Times ``run_suite`` with the clones (every provenance check reads git), prints the median wall
time, the score and the slowest checks. The report is not written back into the dataset.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def main() -> None:
    """Time the suite on an existing build."""
    from corpus.clone import default_cache_dir
    from corpus.defaults import DEFAULT_DATASET
    from falsification import run_suite

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    ap.add_argument("--sources-dir", type=Path, default=None, help="clone cache (default: XDG)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sources_dir = args.sources_dir or default_cache_dir()
    times, report = [], None
    for _ in range(args.runs):
        t = time.perf_counter()
        report = run_suite(args.dataset, sources_dir)
        times.append(time.perf_counter() - t)
    assert report is not None
    print(f"records: {report.records}; score {report.score}/100 {report.verdict}")
    print(
        f"suite wall time: median {statistics.median(times):.2f} s over {args.runs} runs "
        f"({', '.join(f'{t:.2f}' for t in times)})"
    )
    for c in sorted(report.checks, key=lambda c: -c.duration_s)[:6]:
        print(f"  {c.duration_s:6.2f} s  {c.id}")
    for c in report.checks:
        if not c.passed:
            print(f"FAIL {c.id} [{c.severity}] {c.evidence}")


if __name__ == "__main__":
    main()
