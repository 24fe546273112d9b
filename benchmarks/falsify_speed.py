"""Benchmark: how long the falsification suite takes on the seven-repo corpus.

    .venv/bin/python benchmarks/falsify_speed.py [--work DIR] [--runs 3]

Builds (once, cached in --work) the seven-repo dataset from the read-only checkouts in
/work/src with the project's extractor and filters, and a sources dir of <owner>/<name> clones
(the checkout's files plus the bare mirror as .git), then times ``run_suite`` with sources.
Prints the median wall time, the score and the slowest checks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SRC_ROOT = Path("/work/src")
MIRRORS = Path("/work/.mirror")


def make_sources_dir(dest: Path, sources) -> Path:
    """<dest>/<owner>/<name>: links to the checkout's entries plus .git -> the bare mirror."""
    for s in sources:
        owner, name = s.repo.split("/")
        d = dest / owner / name
        if d.exists():
            continue
        d.mkdir(parents=True)
        for entry in (SRC_ROOT / name).iterdir():
            (d / entry.name).symlink_to(entry)
        (d / ".git").symlink_to(MIRRORS / f"{owner}+{name}" / "repo")
    return dest


def build_dataset(dest: Path, sources, sources_dir: Path) -> Path:
    """The seven-repo dataset, built with extract_tree + filter_records (as `corpus build`)."""
    from corpus.extract import extract_tree, rust_files
    from corpus.extract.parser import GRAMMAR_VERSION
    from corpus.filters import FilterConfig, filter_records
    from corpus.schema import EXTRACTOR_VERSION, SPLITS
    from corpus.sources import write_sources
    from corpus.store import DATA_DIR, STATS_FILE, write_json, write_parquet

    if (dest / STATS_FILE).is_file():
        return dest
    records, repos = [], {}
    for s in sources:
        t = time.perf_counter()
        recs, st = extract_tree(
            sources_dir / s.repo,
            repo=s.repo,
            commit=s.commit,
            license=s.license,
            workers=2,
            files=rust_files(SRC_ROOT / s.repo.split("/")[1]),  # the links are not walked
        )
        print(f"extracted {s.repo}: {len(recs)} records in {time.perf_counter() - t:.1f} s")
        records.extend(recs)
        repos[s.repo] = st
    conf = FilterConfig()
    filt = filter_records(records, conf)
    import polars as pl

    for split in SPLITS:
        write_parquet(
            dest / DATA_DIR / f"{split}-00000-of-00001.parquet",
            filt.kept.filter(pl.col("split") == split),
        )
    write_sources(dest / "sources.lock", sources)
    write_json(
        dest / STATS_FILE,
        {
            "extractor_version": EXTRACTOR_VERSION,
            "grammar_version": GRAMMAR_VERSION,
            "repos": repos,
            "filters": filt.counts,
            "filter_config": conf.to_json(),
            "splits": filt.splits,
            "totals": {
                "records": len(records),
                "documented": sum(1 for r in records if r["doc"]),
                "published": filt.kept.height,
            },
        },
    )
    return dest


def main() -> None:
    """Build (or reuse) the corpus, then time the suite."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", type=Path, default=None, help="Cache dir (default: a temp dir).")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from corpus.sources import load_sources
    from falsification import run_suite, write_report

    work = args.work or Path(tempfile.mkdtemp(prefix="falsify-bench-"))
    sources = load_sources()
    sources_dir = make_sources_dir(work / "sources", sources)
    dataset = build_dataset(work / "dataset", sources, sources_dir)
    times, report = [], None
    for _ in range(args.runs):
        t = time.perf_counter()
        report = run_suite(dataset, sources_dir)
        times.append(time.perf_counter() - t)
    write_report(report, dataset)
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
    print(f"report: {dataset / 'falsification.md'}")


if __name__ == "__main__":
    main()
