"""Extraction of whole directories: file discovery, a process pool, stats and output."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.clone import UnsafePathError, is_bad_path, safe_read
from corpus.clone import iter_rust_files as rust_files
from corpus.extract.crate import context_for, crate_models
from corpus.extract.crates import has_manifest_above
from corpus.extract.file import extract_file_bytes
from corpus.extract.parser import GRAMMAR_VERSION
from corpus.extract.pool import pool_map
from corpus.schema import EXTRACTOR_VERSION, sort_key

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Job:
    """One file to extract (picklable)."""

    root: str
    rel_path: str
    repo: str
    commit: str
    license: str


def _run_job(job: Job) -> FileOutcome:
    try:
        data = safe_read(Path(job.root), job.rel_path)
    except (OSError, UnsafePathError):
        return [], {"unreadable_file": 1}, False
    ctx = context_for(job.root, job.rel_path, repo=job.repo, commit=job.commit, license=job.license)
    try:
        res = extract_file_bytes(data, job.rel_path, ctx)
    except Exception:
        return [], {"extractor_error": 1}, False
    return res.records, dict(res.drops), res.parse_error


def _run_batch(jobs: list[Job]) -> list[FileOutcome]:
    return [_run_job(j) for j in jobs]


def file_size(job: Job) -> int:
    """The size of the job's file (0 when it is gone since it was listed: the job itself
    then counts it as unreadable)."""
    try:
        return os.stat(os.path.join(job.root, job.rel_path)).st_size
    except OSError:
        return 0


def balanced(jobs: list[Job], k: int, sizes: dict[Job, int]) -> list[tuple[int, list[Job]]]:
    """The jobs in up to ``k`` buckets of similar byte size (largest file first, each to the
    lightest bucket): (bytes, jobs) per non-empty bucket."""
    buckets: list[list[Job]] = [[] for _ in range(max(1, min(len(jobs), k)))]
    load = [0] * len(buckets)
    for j in sorted(jobs, key=lambda j: -sizes[j]):
        i = load.index(min(load))
        buckets[i].append(j)
        load[i] += sizes[j]
    return [(w, b) for w, b in zip(load, buckets, strict=True) if b]


def _batches(jobs: list[Job], n: int) -> list[list[Job]]:
    """Split jobs into ~n*4 batches of similar byte size (largest files first)."""
    return [b for _, b in balanced(jobs, n * 4, {j: file_size(j) for j in jobs})]


FileOutcome = tuple[list[dict[str, Any]], dict[str, int], bool]


def _path_batches(jobs: list[Job], n: int) -> list[list[Job]]:
    """Consecutive batches in path order: results come out already sorted."""
    size = max(1, min(64, len(jobs) // (n * 4) or 1))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def checkouts(jobs: list[Job]) -> dict[str, list[Job]]:
    """The jobs of each checkout (root), the checkouts in the order they first appear."""
    groups: dict[str, list[Job]] = {}
    for j in jobs:
        groups.setdefault(j.root, []).append(j)
    return groups


def by_checkout(jobs: list[Job]) -> list[Job]:
    """The jobs grouped by checkout (see :func:`checkouts`), each one's in their order: the
    order every extraction path concatenates results in."""
    return [j for group in checkouts(jobs).values() for j in group]


def _model_roots(jobs: list[Job]) -> list[str]:
    """The roots whose crate layout the jobs need (a Cargo.toml above one of their files)."""
    return [
        r
        for r, rjobs in checkouts(jobs).items()
        if any(has_manifest_above(r, j.rel_path) for j in rjobs)
    ]


def _file_outcomes(
    jobs: list[Job], workers: int, batches: Callable[[list[Job], int], list[list[Job]]]
) -> Iterator[tuple[Job, FileOutcome]]:
    """(job, (records, drops, parse error)) per file: in this process, or in a pool of
    ``workers``; each checkout's crate layout is read once, before the pool forks."""
    with crate_models(_model_roots(jobs)):
        yield from _outcomes(jobs, workers, batches)


def workers_for(workers: int) -> int:
    """How many processes ``workers`` asks for (0: one per core)."""
    return workers or os.cpu_count() or 1


def _outcomes(
    jobs: list[Job], workers: int, batches: Callable[[list[Job], int], list[list[Job]]]
) -> Iterator[tuple[Job, FileOutcome]]:
    n = workers_for(workers)
    if n <= 1 or len(jobs) < 8:
        yield from ((j, _run_job(j)) for j in jobs)
        return
    parts = batches(jobs, n)
    for batch, outcomes in zip(parts, pool_map(_run_batch, parts, n), strict=True):
        yield from zip(batch, outcomes, strict=True)


def run_jobs(
    jobs: list[Job], workers: int = 0, progress: Progress | None = None
) -> tuple[list[dict[str, Any]], Counter, int]:
    """Extract ``jobs``; returns (records in stable order, drop counts, files with errors)."""
    by_job: dict[Job, list[dict[str, Any]]] = {}
    drops: Counter = Counter()
    errored = 0
    for job, (recs, d, err) in _file_outcomes(jobs, workers, _batches):
        by_job[job] = recs
        drops.update(d)
        errored += err
        if progress:
            progress(1)
    # checkout by checkout, then stably sorted: rows equal in every sort column (two
    # checkouts' copies of a file) keep the order of their checkouts, however the pool ran
    records = [r for j in by_checkout(jobs) for r in by_job[j]]
    records.sort(key=sort_key)
    return records, drops, errored


def _tree_jobs(
    root: Path, repo: str, commit: str, license: str, files: list[str] | None
) -> tuple[list[Job], int]:
    """One job per `.rs` file under ``root`` (or per listed file), in path order; and how many
    paths were left out as bad (control characters, not UTF-8)."""
    bad: list[str] = []
    if files is None:
        rels = rust_files(root, bad)
    else:
        rels = sorted(f for f in files if not is_bad_path(f))
        bad = [f for f in files if is_bad_path(f)]
    return [Job(str(root), rel, repo, commit, license) for rel in rels], len(bad)


def iter_records(
    root: Path,
    *,
    repo: str,
    commit: str,
    license: str,
    workers: int = 0,
    files: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one record per function item under ``root``, file by file, in the stable order.

    Memory stays at one batch of files: use this for trees too large to hold as a list.
    """
    jobs, _bad = _tree_jobs(root, repo, commit, license, files)
    for _job, (recs, _drops, _err) in _file_outcomes(jobs, workers, _path_batches):
        yield from recs


def extract_tree(
    root: Path,
    *,
    repo: str,
    commit: str,
    license: str,
    workers: int = 0,
    files: list[str] | None = None,
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Extract every `.rs` file under ``root``: (records, stats for this repository)."""
    root = Path(root)
    jobs, bad = _tree_jobs(root, repo, commit, license, files)
    records, drops, errored = run_jobs(jobs, workers, progress)
    if bad:
        drops["bad_path"] += bad
    stats = repo_stats(records, len(jobs), commit, license, drops, errored)
    return records, stats


def record_counts(records: list[dict[str, Any]]) -> Counter:
    """What stats.json counts of records besides their number (see ``repo_stats``)."""
    return Counter(
        documented=sum(1 for r in records if r["doc"]),
        macro_records=sum(1 for r in records if r["origin"] != "source"),
        test_records=sum(1 for r in records if r["is_test"]),
        nested_records=sum(1 for r in records if r["is_nested"]),
    )


def repo_stats(
    records: list[dict[str, Any]],
    files: int,
    commit: str,
    license: str,
    drops: Counter,
    errored: int,
) -> dict[str, Any]:
    """Per-repository counts for stats.json."""
    return counted_stats(len(records), record_counts(records), files, commit, license, drops,
                         errored)  # fmt: skip


def counted_stats(
    records: int,
    counts: Counter,
    files: int,
    commit: str,
    license: str,
    drops: Counter,
    errored: int,
) -> dict[str, Any]:
    """``repo_stats`` of as many records as ``records`` with these ``record_counts``."""
    return {
        "commit": commit,
        "license": license,
        "files": files,
        "files_with_parse_errors": errored,
        "records": records,
        "documented": counts["documented"],
        "macro_records": counts["macro_records"],
        "test_records": counts["test_records"],
        "nested_records": counts["nested_records"],
        "drops": dict(sorted(drops.items())),
    }


def versions() -> dict[str, str]:
    """The versions that determine extraction output."""
    return {"extractor_version": EXTRACTOR_VERSION, "grammar_version": GRAMMAR_VERSION}
