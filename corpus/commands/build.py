"""`corpus build`: clone → extract → filter/dedup → split → falsify → stage (→ push)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import (
    console,
    err_console,
    existing_paths,
    stage_progress,
    user_errors,
)
from corpus.commands._options import (
    Address,
    CacheDir,
    Executor,
    IncludeTests,
    MaxRepoShare,
    Private,
    RepoId,
    SourcesFile,
    Workers,
)
from corpus.paths import DEFAULT_OUT


def register(app: typer.Typer) -> None:
    """Add the build command to ``app``."""
    app.command("build")(build)


def build(
    sources: SourcesFile = None,
    cache_dir: CacheDir = None,
    out: Path = typer.Option(
        DEFAULT_OUT, "--out", "-o", help="Output dir: shards/, builds/, dataset/ (the one to ship)."
    ),
    only: list[str] = typer.Option(
        [], "--only", help="Build only this repo (owner/name or name); repeatable."
    ),
    workers: Workers = 0,
    executor: Executor = "local",
    address: Address = None,
    push: bool = typer.Option(False, "--push", help="Publish the staged dataset to the Hub."),
    repo_id: RepoId = None,
    private: Private = False,
    force: bool = typer.Option(
        False, "--force", help="Push even a falsification WARN, and let publish overwrite."
    ),
    include_tests: IncludeTests = False,
    write_rejects: bool = typer.Option(
        False, "--write-rejects", help="Write every dropped record to <out>/rejects.parquet."
    ),
    max_repo_share: MaxRepoShare = 0.4,
) -> None:
    """Build the dataset; a rerun skips finished stages, a killed run resumes.

    Exit codes: 0 PASS, 1 a stage failed or falsification FAILed (nothing staged),
    2 bad input, 3 falsification WARN (staged; pushed only with --force).
    """
    if sources is not None:
        existing_paths([sources])
    with user_errors():
        from pipelines.build import BuildConfig
        from pipelines.build import build as run_build

        config = BuildConfig(
            out=out,
            cache_dir=cache_dir,
            sources_file=sources,
            only=tuple(only),
            workers=workers,
            executor=executor,
            address=address,
            include_tests=include_tests,
            max_repo_share=max_repo_share,
            write_rejects=write_rejects,
            push=push,
            repo_id=repo_id,
            private=private,
            force=force,
        )
        with stage_progress() as progress:
            result = run_build(config, progress)
        _print_summary(result)
        for msg in result.messages:
            err_console.print(f"[yellow]warning:[/] {msg}")
        if result.exit_code:
            raise typer.Exit(int(result.exit_code))


def _print_summary(result: Any) -> None:
    from rich.table import Table

    stats = result.stats
    table = Table(title=f"corpus build → {result.dataset}", show_lines=False)
    for col in ("repo", "files", "records", "documented", "train", "validation", "test"):
        if col == "repo":
            table.add_column(col, no_wrap=True, min_width=18)
        else:
            table.add_column(col, justify="right")
    per_repo = stats.get("splits", {}).get("per_repo", {})
    for repo, st in stats.get("repos", {}).items():
        sp = per_repo.get(repo, {})
        table.add_row(
            repo,
            *(str(st.get(k, 0)) for k in ("files", "records", "documented")),
            *(str(sp.get(k, 0)) for k in ("train", "validation", "test")),
        )
    console.print(table)
    filters = ", ".join(f"{k} {v}" for k, v in stats.get("filters", {}).items())
    console.print(f"filters: {filters}")
    stages = Table(title="stages")
    for col in ("stage", "seconds", "work"):
        stages.add_column(col)
    timings = result.report.get("timings", {})
    for name, info in result.report.get("stages", {}).items():
        if "ran" in info and isinstance(info["ran"], list):
            work = f"{len(info['ran'])} ran, {len(info['skipped'])} done before"
        else:
            work = "ran" if info.get("ran") else "done before"
        stages.add_row(name, f"{timings.get(name, 0.0):.2f}", work)
    console.print(stages)
    console.print(
        f"staged {stats.get('totals', {}).get('published', 0)} records in {result.dataset}; "
        f"falsification {result.verdict} ({result.score}/100)"
    )
    pushed = result.pushed
    if pushed is not None:
        what = "new commit" if pushed.changed else "unchanged, no new commit"
        console.print(
            f"pushed: {pushed.url} (tag {pushed.tag}, commit {pushed.commit_sha[:12]}, {what})"
        )
