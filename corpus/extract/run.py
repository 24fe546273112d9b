"""`corpus extract`: extract paths into records.parquet + stats.json, with progress."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.commands._common import console, stage_progress
from corpus.extract.tree import Job, repo_stats, run_jobs, rust_files, versions
from corpus.layout import RECORDS_FILE, STATS_FILE
from corpus.store import write_json, write_parquet

_GITHUB_RE = re.compile(r"github\.com[:/]+([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
UNKNOWN_REPO = "local/unknown"
UNKNOWN_COMMIT = "0" * 40


def _git(path: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(path), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@dataclass(frozen=True)
class Provenance:
    """What git says about a path: owner/name from its origin, HEAD, and local changes."""

    repo: str | None
    commit: str | None
    dirty: bool


def detect_provenance(path: Path) -> Provenance:
    """Repository and commit of the git checkout holding ``path`` (None where unknown)."""
    base = path if path.is_dir() else path.parent
    commit = _git(base, "rev-parse", "HEAD")
    if commit is None or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return Provenance(None, None, False)
    url = _git(base, "config", "--get", "remote.origin.url") or ""
    m = _GITHUB_RE.search(url)
    dirty = bool(_git(base, "status", "--porcelain", "--untracked-files=no", "--", "."))
    return Provenance(f"{m.group(1)}/{m.group(2)}" if m else None, commit, dirty)


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
    jobs = jobs_for(paths, repo, commit, license)
    done = 0

    with stage_progress() as progress:

        def advance(n: int) -> None:
            nonlocal done
            done += n
            progress("extracting", done, len(jobs))

        records, drops, errored = run_jobs(jobs, workers, advance)
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
