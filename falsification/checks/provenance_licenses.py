"""Licences from the repository (critical): the declared licence of every source agrees with
what its own files say at the pin, verified again from the clones' blobs, not taken from
stats.json. The rule is ``corpus.licenses`` (``agreement`` and ``detect``).
"""

from __future__ import annotations

from typing import Any

from falsification.context import SuiteContext
from falsification.registry import Outcome, check, outcome

#: Summary keys compared between stats.json and the re-detection (``detector`` is not: a
#: newer detector giving the same answer is no defect).
_COMPARED = ("declared", "detected", "detected_from", "status", "ok", "reasons", "root",
             "members", "files", "problems")  # fmt: skip


def redetected(ctx: SuiteContext, repo: str) -> dict[str, Any] | str:
    """The licence summary of ``repo`` re-detected from the blobs of its pinned commit in the
    clone (cached per suite run), or why it could not be: the error text."""
    from corpus.errors import CorpusError
    from corpus.licenses import detect_commit

    cache = ctx.notes.setdefault("licenses.redetected", {})
    if repo not in cache:
        entry = (ctx.lock or {}).get(repo, {})
        commit, declared = str(entry.get("commit", "")), str(entry.get("license", ""))
        if ctx.repos is None or not ctx.repos.has_repo(repo):
            cache[repo] = "no clone of it in the sources dir"
        else:
            try:
                cache[repo] = detect_commit(ctx.repos.path(repo), commit, declared)
            except (CorpusError, OSError) as exc:
                cache[repo] = str(exc)
    return cache[repo]


def _differs(stored: Any, fresh: dict[str, Any]) -> str | None:
    """The first summary key where stats.json differs from the re-detection, else None."""
    if not isinstance(stored, dict):
        return "stats.json records no licence detection for it"
    for key in _COMPARED:
        want, got = fresh.get(key), stored.get(key)
        if got != want:
            if isinstance(want, str | bool | None) and isinstance(got, str | bool | None):
                return f"stats.json's `{key}` is {got!r}, a re-detection at the pin gives {want!r}"
            return f"stats.json's `{key}` differs from a re-detection at the pin"
    return None


def _repo_problems(ctx: SuiteContext, repo: str) -> list[str]:
    fresh = redetected(ctx, repo)
    if isinstance(fresh, str):
        return [f"cannot detect its licence at the pin: {fresh}"]
    problems = list(fresh["reasons"])
    stored = (ctx.stats.get("licenses") or {}).get(repo)
    diff = _differs(stored, fresh)
    return problems + ([diff] if diff else [])


@check(
    "provenance.license_detected",
    points=2,
    apart=True,
    severity="critical",
    needs_sources=True,
    hypothesis="Each source's declared licence agrees with its licence files and Cargo.toml "
    "`license` fields at the pinned commit (re-detected from the clone's blobs: every text "
    "found is declared, the texts satisfy an alternative of the declaration, the repository's "
    "own Cargo licence is equivalent to it, and every workspace package agrees with its "
    "texts), and stats.json records exactly that detection.",
)
def license_detected(ctx: SuiteContext) -> Outcome:
    if ctx.lock is None:
        return Outcome(False, "sources.lock is missing from the dataset dir: licences unverifiable")
    repos = sorted(set(ctx.lock) | {r["repo"] for r in ctx.records})
    failing: dict[str, list[str]] = {}
    for repo in repos:
        problems = _repo_problems(ctx, repo) if repo in ctx.lock else ["not pinned"]
        if problems:
            failing[repo] = problems
    bad = [r["id"] for r in ctx.records if r["repo"] in failing]
    if failing:
        ev = " | ".join(f"{repo}: {'; '.join(p)}" for repo, p in failing.items())
        return outcome(False, f"{len(failing)}/{len(repos)} repos: {ev}", bad)
    shown = ", ".join(f"{repo} {_detected(ctx, repo)}" for repo in repos)
    return Outcome(True, f"{len(repos)} repos, declared = detected: {shown}")


def _detected(ctx: SuiteContext, repo: str) -> str:
    fresh = redetected(ctx, repo)
    return str(fresh["detected"]) if isinstance(fresh, dict) else "?"


def expected_license(ctx: SuiteContext, record: dict[str, Any]) -> str | None:
    """The licence a record must carry: its package's (``record_license`` of the detection in
    stats.json, which license_detected verifies), else its repository's pin."""
    if isinstance((ctx.stats.get("licenses") or {}).get(record["repo"]), dict):
        return ctx.license_for_path(record["repo"], record["path"])
    return (ctx.lock or {}).get(record["repo"], {}).get("license")
