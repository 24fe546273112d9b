"""Extraction of directories vs tree-sitter parse-only of the same files, in-process and as
whole processes (as a user runs them).

Usage: python benchmarks/extract_vs_parse.py DIR [DIR...] [--workers N] [--repeat R]

In-process: parse-only on one core, extraction on one core and in a pool of N workers (the
table path `corpus extract` runs: workers send Arrow batches), excluding interpreter start,
imports, the file listing and writing. Whole process: ``python THIS --parse-only DIR...``
(start, imports, listing, reading and parsing every file on one core) against ``corpus extract
DIR... --out TMP -j N`` (everything a user waits for, writing included), run in turn A B A B,
the ratio taken pair by pair. Every figure is the median of R repeats (default 5); ratios are
measured in this one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus.extract import rust_files
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


def extract_pooled(roots: list[Path], workers: int) -> tuple[float, int]:
    """Seconds to extract every root in ONE pool into one table (how `corpus extract DIR...`
    runs, without writing); records found."""
    from corpus.extract.table import run_jobs_table
    from corpus.extract.tree import Job

    jobs = [
        Job(str(r), rel, f"bench/{r.name}", "0" * 40, "MIT") for r in roots for rel in rust_files(r)
    ]
    t0 = time.perf_counter()
    res = run_jobs_table(jobs, workers)
    return time.perf_counter() - t0, res.table.num_rows


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def whole_process(dirs: list[Path], workers: int, repeat: int) -> tuple[float, float, float]:
    """Median seconds of the parse-only process and of `corpus extract`, and the median of
    their pairwise ratios (extract / parse-only)."""
    corpus = str(Path(sys.executable).with_name("corpus"))
    parse_cmd = [sys.executable, __file__, "--parse-only", *map(str, dirs)]
    with tempfile.TemporaryDirectory(prefix="extract-bench-") as tmp:
        extract_cmd = [corpus, "extract", *map(str, dirs), "--out", tmp, "-j", str(workers)]
        extract_cmd += ["--repo", "bench/bench", "--commit", "0" * 40]
        _timed(parse_cmd), _timed(extract_cmd)  # warm the page cache and the imports
        pairs = [(_timed(parse_cmd), _timed(extract_cmd)) for _ in range(repeat)]
    ps, es = zip(*pairs, strict=True)
    ratio = statistics.median(e / p for p, e in pairs)
    return statistics.median(ps), statistics.median(es), ratio


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--parse-only", action="store_true", help="(the whole-process baseline)")
    a = ap.parse_args()
    if a.parse_only:
        parse_only(a.dirs)
        return
    med = lambda f: sorted((f() for _ in range(a.repeat)), key=lambda x: x[0])[a.repeat // 2]  # noqa: E731
    p, nfiles, nbytes = med(lambda: parse_only(a.dirs))
    e1, nrec = med(lambda: extract_pooled(a.dirs, 1))
    en, _ = med(lambda: extract_pooled(a.dirs, a.workers))
    wp, we, ratio = whole_process(a.dirs, a.workers, a.repeat)
    print(f"files={nfiles} bytes={nbytes / 1e6:.1f}MB records={nrec} (medians of {a.repeat})")
    print("in-process:")
    print(f"  parse-only, 1 core          : {p:7.3f} s  ({nbytes / p / 1e6:.1f} MB/s)")
    print(f"  extract, 1 core             : {e1:7.3f} s  ratio {e1 / p:.2f}x parse-only")
    print(f"  extract, {a.workers} workers          : {en:7.3f} s  ratio {en / p:.2f}x parse-only")
    print("whole process:")
    print(f"  parse-only, 1 core          : {wp:7.3f} s")
    print(f"  corpus extract -j {a.workers}         : {we:7.3f} s  ratio {ratio:.2f}x parse-only")


if __name__ == "__main__":
    main()
