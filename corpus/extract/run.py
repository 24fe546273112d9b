"""`corpus extract`: extract paths into records.parquet + stats.json, with progress."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.commands._common import console, stage_progress
from corpus.extract.table import run_jobs_table
from corpus.extract.tree import Job, counted_stats, rust_files, versions
from corpus.layout import RECORDS_FILE, STATS_FILE
from corpus.schema import UNKNOWN_COMMIT, UNKNOWN_REPO
from corpus.store import write_json, write_parquet

__all__ = ["UNKNOWN_COMMIT", "UNKNOWN_REPO", "detect_provenance", "extract_to_dir"]
_GITHUB_RE = re.compile(r"github\.com[:/]+([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")


def _git(g: Any, *args: str) -> str | None:
    from corpus.gitrun import GitError

    try:
        return g.run(*args, timeout=10).strip()
    except GitError:
        return None


@dataclass(frozen=True)
class Provenance:
    """What git says about a path: owner/name from its origin, HEAD, and local changes."""

    repo: str | None
    commit: str | None
    dirty: bool


def _blob_id(path: Path) -> str | None:
    """The git blob id of a working file as committed (no filters: none of the repository's
    may run), or None when it is gone or not a file."""
    try:
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    except OSError:
        return None
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _dirty(g: Any, top: Path, base: Path) -> bool:
    """Whether a tracked file under ``base`` differs from HEAD — hashed here, never with
    `git status`, which would run the checkout's fsmonitor and filter commands."""
    from corpus.gitrun import GitError

    try:
        rel = base.resolve().relative_to(top.resolve()).as_posix()
        listing = g.run_bytes("ls-tree", "-r", "-z", "--full-tree", "HEAD", timeout=30)
    except (GitError, ValueError):
        return False
    for entry in listing.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) != 3 or parts[1] != b"blob":
            continue
        path = name.decode("utf-8", "surrogateescape")
        if rel not in (".", "") and not (path == rel or path.startswith(rel + "/")):
            continue
        if _blob_id(top / path) != parts[2].decode():
            return True
    return False


def detect_provenance(path: Path) -> Provenance:
    """Repository and commit of the git checkout holding ``path`` (None where unknown).

    Untrusted checkouts are only read through ``corpus.gitrun``'s hardened runner: no hook,
    fsmonitor or filter of theirs can run.
    """
    from corpus.gitrun import session

    base = path if path.is_dir() else path.parent
    with session() as git:
        g = git(base)
        commit = _git(g, "rev-parse", "HEAD")
        if commit is None or not re.fullmatch(r"[0-9a-f]{40}", commit):
            return Provenance(None, None, False)
        url = _git(g, "config", "--get", "remote.origin.url") or ""
        top = _git(g, "rev-parse", "--show-toplevel")
        dirty = _dirty(g, Path(top), base) if top else False
    m = _GITHUB_RE.search(url)
    return Provenance(f"{m.group(1)}/{m.group(2)}" if m else None, commit, dirty)


def jobs_for(
    paths: list[Path], repo: str, commit: str, license: str, bad: list[str] | None = None
) -> list[Job]:
    """One job per `.rs` file under each path (a file path is its own job); paths no record
    may carry (``corpus.clone.is_bad_path``) are appended to ``bad`` instead."""
    from corpus.clone import is_bad_path

    jobs: list[Job] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            jobs.extend(Job(str(p), rel, repo, commit, license) for rel in rust_files(p, bad))
        elif p.suffix == ".rs" and not p.is_symlink():
            if is_bad_path(p.name):
                if bad is not None:
                    bad.append(p.name)
                continue
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
    bad: list[str] = []
    jobs = jobs_for(paths, repo, commit, license, bad)
    done = 0

    with stage_progress() as progress:

        def advance(n: int) -> None:
            nonlocal done
            done += n
            progress("extracting", done, len(jobs))

        # Workers send Arrow batches: no record dict crosses to this process.
        res = run_jobs_table(jobs, workers, advance)
    drops = Counter(res.drops)
    if bad:
        drops["bad_path"] += len(bad)
    n = res.table.num_rows
    per_repo = counted_stats(n, res.counts, len(jobs), commit, license, drops, res.errored)
    stats = {
        **versions(),
        "repos": {repo: per_repo},
        "drops": per_repo["drops"],
        "totals": {"files": len(jobs), "records": n, "documented": per_repo["documented"]},
    }
    out = Path(out)
    write_parquet(out / RECORDS_FILE, res.table)
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
