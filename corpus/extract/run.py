"""`corpus extract`: extract paths into records.parquet + stats.json, with progress."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from corpus.commands._common import console, is_interactive
from corpus.extract.tree import Job, repo_stats, run_jobs, rust_files, versions
from corpus.store import RECORDS_FILE, STATS_FILE, write_json, write_parquet


def jobs_for(paths: list[Path], repo: str, commit: str, license: str) -> list[Job]:
    """One job per `.rs` file under each path (a file path is its own job)."""
    jobs: list[Job] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            jobs.extend(Job(str(p), rel, repo, commit, license) for rel in rust_files(p))
        elif p.suffix == ".rs" and not p.is_symlink():
            jobs.append(Job(str(p.parent), p.name, repo, commit, license))
    return jobs


def extract_to_dir(
    paths: list[Path],
    out: Path,
    *,
    repo: str,
    commit: str,
    license: str,
    workers: int = 0,
) -> dict[str, Any]:
    """Extract ``paths`` into ``out``/records.parquet and stats.json; return the stats."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    jobs = jobs_for(paths, repo, commit, license)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not is_interactive(),
        transient=True,
    ) as bar:
        task = bar.add_task("extracting", total=len(jobs))
        records, drops, errored = run_jobs(jobs, workers, lambda n: bar.advance(task, n))
    per_repo = repo_stats(records, len(jobs), commit, license, Counter(drops), errored)
    stats = {
        **versions(),
        "repos": {repo: per_repo},
        "drops": per_repo["drops"],
        "totals": {
            "files": len(jobs),
            "records": len(records),
            "documented": per_repo["documented"],
        },
    }
    out = Path(out)
    write_parquet(out / RECORDS_FILE, records)
    write_json(out / STATS_FILE, stats)
    _print_summary(stats, out)
    return stats


def _print_summary(stats: dict[str, Any], out: Path) -> None:
    from rich.table import Table

    t = Table(title="extraction", show_header=True, header_style="bold")
    t.add_column("what")
    t.add_column("count", justify="right")
    totals = stats["totals"]
    for key in ("files", "records", "documented"):
        t.add_row(key, str(totals[key]))
    for reason, n in sorted(stats["drops"].items()):
        t.add_row(f"dropped: {reason}", str(n))
    console.print(t)
    console.print(f"wrote {out / RECORDS_FILE} and {out / STATS_FILE}")
