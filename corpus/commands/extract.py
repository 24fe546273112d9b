"""`corpus extract PATH... --out DIR`."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from corpus.commands._common import (
    PANEL_BUILD,
    ExitCode,
    add_command,
    err_console,
    existing_paths,
    fail,
    user_errors,
)


def register(app: typer.Typer) -> None:
    """Add the extract command to ``app``."""
    add_command(app, "extract", extract, PANEL_BUILD)


def extract(
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH...", help="Rust files or directories to extract from."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="DIR", help="Output directory (records.parquet, stats.json)."
    ),
    repo: str | None = typer.Option(
        None,
        metavar="OWNER/NAME",
        help="Repository as owner/name (default: from the checkout's GitHub origin).",
    ),
    commit: str | None = typer.Option(
        None, metavar="SHA", help="Full commit SHA the files are at (default: the checkout's HEAD)."
    ),
    license: str = typer.Option(
        "NOASSERTION", "--license", metavar="SPDX", help="SPDX licence of the files."
    ),
    workers: int = typer.Option(
        0, "--workers", "-j", metavar="N", help="Processes (0 = one per core)."
    ),
) -> None:
    """Extract every function item and its doc comment from Rust sources."""
    existing_paths(paths)
    with user_errors():
        from corpus.extract.run import (
            UNKNOWN_COMMIT,
            UNKNOWN_REPO,
            detect_provenance,
            extract_to_dir,
        )

        if repo is None or commit is None:
            # Permalinks and ids are only as good as these: read them from git when we can.
            found = detect_provenance(paths[0])
            if commit is None and found.commit and found.dirty:
                err_console.print(
                    f"[yellow]warning:[/] {paths[0]} has uncommitted changes: records may not "
                    f"match commit {found.commit[:12]}",
                    markup=True,
                )
            repo = repo or found.repo or UNKNOWN_REPO
            commit = commit or found.commit or UNKNOWN_COMMIT
            if repo == UNKNOWN_REPO or commit == UNKNOWN_COMMIT:
                err_console.print(
                    "[yellow]warning:[/] repository or commit unknown (not a GitHub checkout?): "
                    "pass --repo OWNER/NAME and --commit SHA for working permalinks",
                    markup=True,
                )
        if not re.fullmatch(r"[0-9a-f]{40}", commit):
            fail(
                f"--commit must be a full 40-character lower-case SHA, got {commit!r}",
                ExitCode.BAD_INPUT,
            )
        extract_to_dir(paths, out, repo=repo, commit=commit, license=license, workers=workers)
