"""`corpus extract PATH... --out DIR`."""

from __future__ import annotations

from pathlib import Path

import typer

from corpus.commands._common import existing_paths, user_errors


def register(app: typer.Typer) -> None:
    """Add the extract command to ``app``."""
    app.command("extract")(extract)


def extract(
    paths: list[Path] = typer.Argument(..., help="Rust files or directories to extract from."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output directory (records.parquet, stats.json)."
    ),
    repo: str = typer.Option("local/unknown", help="Repository as owner/name, for provenance."),
    commit: str = typer.Option("0" * 40, help="Commit SHA the files are at, for provenance."),
    license: str = typer.Option("NOASSERTION", "--license", help="SPDX licence of the files."),
    workers: int = typer.Option(0, "--workers", "-j", help="Processes (0 = one per core)."),
) -> None:
    """Extract every function item and its doc comment from Rust sources."""
    existing_paths(paths)
    with user_errors():
        from corpus.extract.run import extract_to_dir

        extract_to_dir(paths, out, repo=repo, commit=commit, license=license, workers=workers)
