"""Extraction of a directory vs tree-sitter parse-only of the same files.

Usage: python benchmarks/extract_vs_parse.py DIR [DIR...] [--workers N] [--repeat R]

Prints parse-only time on one core, extraction time (process pool, N workers, default all
cores) and extraction on one core, with the ratios, measured in one run. Each figure is the
best of R repeats (default 3) to damp noise on a shared machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from corpus.extract import extract_tree, rust_files
from corpus.extract.parser import parse


def parse_only(roots: list[Path]) -> tuple[float, int, int]:
    """Seconds to read and parse every .rs file on one core; files; bytes."""
    files = [r / rel for r in roots for rel in rust_files(r)]
    t0 = time.perf_counter()
    total = 0
    for f in files:
        data = f.read_bytes()
        total += len(data)
        parse(data)
    return time.perf_counter() - t0, len(files), total


def extract_all(roots: list[Path], workers: int) -> tuple[float, int]:
    """Seconds to extract every root; records found."""
    t0 = time.perf_counter()
    n = 0
    for r in roots:
        recs, _ = extract_tree(
            r, repo=f"bench/{r.name}", commit="0" * 40, license="MIT", workers=workers
        )
        n += len(recs)
    return time.perf_counter() - t0, n


def extract_all_pooled(roots: list[Path], workers: int) -> tuple[float, int]:
    """Seconds to extract every root in ONE pool (how `corpus extract DIR...` runs)."""
    from corpus.extract.tree import Job, run_jobs

    t0 = time.perf_counter()
    jobs = [
        Job(str(r), rel, f"bench/{r.name}", "0" * 40, "MIT") for r in roots for rel in rust_files(r)
    ]
    recs, _, _ = run_jobs(jobs, workers)
    return time.perf_counter() - t0, len(recs)


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    best = lambda f: min((f() for _ in range(a.repeat)), key=lambda x: x[0])  # noqa: E731
    p, nfiles, nbytes = best(lambda: parse_only(a.dirs))
    e1, nrec = best(lambda: extract_all_pooled(a.dirs, 1))
    en, _ = best(lambda: extract_all_pooled(a.dirs, a.workers))
    print(f"files={nfiles} bytes={nbytes / 1e6:.1f}MB records={nrec}")
    print(f"parse-only, 1 core        : {p:7.3f} s  ({nbytes / p / 1e6:.1f} MB/s)")
    print(f"extract, 1 core           : {e1:7.3f} s  ratio {e1 / p:.2f}x parse-only")
    print(
        f"extract, pool ({a.workers or 'all'} workers): {en:7.3f} s  ratio {en / p:.2f}x parse-only"
    )


if __name__ == "__main__":
    main()
