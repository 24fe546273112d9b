"""Options shared by several commands, declared once (Typer's Annotated style)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SourcesFile = Annotated[
    Path | None,
    typer.Option("--sources", help="sources.toml: repos, pins, licences (default: packaged)."),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Where clones live (default: $CORPUS_CACHE_DIR, else "
        "$XDG_CACHE_HOME/rustdoc-corpus/repos, else ~/.cache/rustdoc-corpus/repos).",
    ),
]
Workers = Annotated[
    int,
    typer.Option(
        "--workers", "-j", help="Local executor processes (0 = one per CPU, 1 = in-process)."
    ),
]
Executor = Annotated[str, typer.Option("--executor", help="Where units run: local or ray.")]
Address = Annotated[
    str | None,
    typer.Option("--address", help="Ray cluster: auto or ray://host:port (with --executor ray)."),
]
RepoId = Annotated[str | None, typer.Option("--repo-id", help="Hub dataset repo (ORG/NAME).")]
Private = Annotated[bool, typer.Option("--private", help="Create the Hub repo as private.")]
IncludeTests = Annotated[
    bool,
    typer.Option("--include-tests", help="Keep test functions (flagged is_test) in the dataset."),
]
MaxRepoShare = Annotated[
    float,
    typer.Option(
        "--max-repo-share",
        min=0.0,
        max=1.0,
        help="Cap any one repository's share of the published records (1 = no cap).",
    ),
]
