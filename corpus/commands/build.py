"""`corpus build`: clone → extract → filter/dedup → split → falsify → stage (→ push)."""

from __future__ import annotations

from typing import Any

import typer

from corpus.commands import _options as opt
from corpus.commands._common import (
    PANEL_BUILD,
    add_command,
    console,
    err_console,
    existing_paths,
    fail,
    stage_progress,
    user_errors,
)


def register(app: typer.Typer) -> None:
    """Add the build command to ``app``."""
    add_command(app, "build", build, PANEL_BUILD)


def build(
    sources_file: opt.SourcesFile = None,
    cache_dir: opt.CacheDir = None,
    out: opt.Out = opt.DEFAULTS["out"],
    only: opt.Only = [],  # noqa: B006  (Typer reads the default; it is never mutated)
    workers: opt.Workers = opt.DEFAULTS["workers"],
    executor: opt.Executor = opt.DEFAULTS["executor"],
    address: opt.Address = None,
    push: opt.Push = False,
    repo_id: opt.RepoId = None,
    private: opt.Private = False,
    force: bool = typer.Option(
        False, "--force", help="Push even a falsification WARN, and let publish overwrite."
    ),
    include_tests: opt.IncludeTests = False,
    write_rejects: bool = typer.Option(
        False, "--write-rejects", help="Write every dropped record to <out>/rejects.parquet."
    ),
    max_repo_share: opt.MaxRepoShare = opt.DEFAULTS["max_repo_share"],
    split_manifest: opt.SplitManifestFile = None,
) -> None:
    """Build the dataset; a rerun skips finished stages, a killed run resumes.

    Exit codes: 0 PASS, 1 a stage failed or falsification FAILed (nothing staged),
    2 bad input, 3 falsification WARN (staged; pushed only with --force), 4 locked.
    """
    options = dict(locals())  # exactly the parameters: every one is a BuildConfig field
    if sources_file is not None:
        existing_paths([sources_file])
    with user_errors():
        from pipelines.build import build as run_build

        with stage_progress() as progress:
            result = run_build(opt.build_config(**options), progress)
    print_build(result)
    if result.exit_code:
        fail(result.message, result.exit_code)
    if result.message:
        from rich.markup import escape

        err_console.print(f"[yellow]warning:[/] {escape(result.message)}", soft_wrap=True)


def print_build(result: Any) -> None:
    """The per-repo table, filter counts, stage table and what was staged and pushed."""
    from rich.markup import escape
    from rich.table import Table

    stats = result.stats
    table = Table(title=f"corpus build → {result.out.root}", show_lines=False)
    table.add_column("repo", no_wrap=True, min_width=18)
    for col in ("files", "records", "documented", "train", "validation", "test"):
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
    console.print(f"filters: {', '.join(f'{k} {v}' for k, v in stats.get('filters', {}).items())}")
    stages = Table(title="stages")
    for col in ("stage", "seconds", "work"):
        stages.add_column(col)
    for name, info in result.stages.items():
        if "units_ran" in info:
            work = f"{len(info['units_ran'])} ran, {len(info['units_done'])} done before"
        else:
            work = "ran" if info.get("ran") else info.get("refused", "done before")
        stages.add_row(name, f"{info.get('seconds', 0.0):.2f}", work)
    console.print(stages)
    for note in result.notes:
        err_console.print(f"note: {escape(note)}", highlight=False)
    where = result.dataset.root if result.dataset else "nothing (not staged)"
    console.print(
        f"staged {stats.get('totals', {}).get('published', 0) if result.dataset else 0} records "
        f"in {where}; falsification {result.verdict} ({result.score}/100)",
        markup=False,
    )
    if result.pushed is not None:
        pushed = result.pushed
        what = "new commit" if pushed.changed else "unchanged, no new commit"
        console.print(
            f"pushed: {pushed.url} (tag {pushed.tag}, commit {pushed.commit_sha[:12]}, {what})",
            markup=False,
        )
