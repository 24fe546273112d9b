"""Benchmark: the two baselines on the seven-repo test split, and how long `corpus eval` takes.

    corpus build                                   # once: out/dataset
    python benchmarks/eval_baselines.py [--dataset out/dataset] [--runs 3] [--json OUT]

Runs ``corpus eval --system template --system retrieval`` as a whole process (start-up,
imports, reading the dataset, BM25 index, scoring, bootstrap, report and plots), ``--runs``
times, and prints the median wall time, each system's own seconds and the metrics table with
95% CIs (the numbers every trained adapter has to beat).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(dataset: Path, out: Path) -> float:
    """Wall seconds of one `corpus eval` process."""
    cmd = [sys.executable, "-m", "corpus.cli", "eval", "--data", str(dataset), "--out", str(out),
           "--system", "template", "--system", "retrieval"]  # fmt: skip
    t = time.perf_counter()
    env = {**os.environ, "CI": "1"}  # no progress bars in the timing
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"corpus eval failed ({proc.returncode}): {proc.stderr.strip()}")
    return seconds


def main() -> None:
    """Time the baselines' evaluation and print their table."""
    from corpus.defaults import DEFAULT_DATASET
    from pipelines.eval.report import systems_table

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="eval-bench-"))
    try:
        times = [run_once(args.dataset, tmp / f"run{i}") for i in range(args.runs)]
        summary = json.loads((tmp / "run0" / "eval.json").read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{summary['split']} split: {summary['n']} records; primary {summary['primary']}")
    print(f"corpus eval, whole process: median {statistics.median(times):.2f} s over "
          f"{args.runs} runs ({', '.join(f'{t:.2f}' for t in times)})")  # fmt: skip
    for s in summary["systems"]:
        print(f"  {s['name']}: {s['seconds']:.2f} s to produce its docs")
    print("\n".join(systems_table(summary)))
    for c in summary["comparisons"]:
        print(f"{c['a']} vs {c['b']}: {c['wins']}/{c['ties']}/{c['losses']}, "
              f"diff {c['diff']:.2f} [{c['lo']:.2f}, {c['hi']:.2f}]")  # fmt: skip
    if args.json:
        figures = {"seconds": times, "median_s": statistics.median(times), "summary": summary}
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
