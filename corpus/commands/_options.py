"""Options shared by several commands, declared once (Typer's Annotated style), and the one
place that turns the shared build options into a ``BuildConfig``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from corpus.defaults import DEFAULT_OUT, EXECUTOR, MAX_REPO_SHARE, NETWORK_RETRIES, WORKERS

SourcesFile = Annotated[
    Path | None,
    typer.Option(
        "--sources",
        metavar="FILE",
        help="sources.toml: repos, pins, licences (default: packaged).",
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        metavar="DIR",
        help="Where clones live (default: $CORPUS_CACHE_DIR, else "
        "$XDG_CACHE_HOME/rustdoc-corpus/repos, else ~/.cache/rustdoc-corpus/repos).",
    ),
]
Out = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        metavar="DIR",
        help="Output folder: shards/, builds/, dataset/ (the one to ship), history.jsonl.",
    ),
]
Only = Annotated[
    list[str],
    typer.Option("--only", metavar="REPO", help="Only this repo (owner/name or name); repeatable."),
]
Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        "-j",
        metavar="N",
        help="Local executor processes (0 = one per CPU, 1 = in-process).",
    ),
]
Executor = Annotated[
    str, typer.Option("--executor", metavar="local|ray", help="Where units run: local or ray.")
]
Address = Annotated[
    str | None,
    typer.Option(
        "--address",
        metavar="ADDR",
        help="Ray cluster: auto or ray://host:port (with --executor ray).",
    ),
]
Push = Annotated[bool, typer.Option("--push", help="Publish the staged dataset to the Hub.")]
RepoId = Annotated[
    str | None, typer.Option("--repo-id", metavar="ORG/NAME", help="Hub dataset repo.")
]
Private = Annotated[bool, typer.Option("--private", help="Create the Hub repo as private.")]
DatasetConfig = Annotated[
    str, typer.Option("--config", metavar="default|balanced", help="Which dataset config.")
]
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
        metavar="F",
        help="Cap any one repository's share of the published records (1 = no cap).",
    ),
]
SplitManifestFile = Annotated[
    Path | None,
    typer.Option(
        "--split-manifest",
        metavar="FILE",
        help="A split manifest whose files keep their splits (default: the staged build's "
        "split_manifest.json).",
    ),
]
Retries = Annotated[
    int,
    typer.Option("--retries", min=0, metavar="N", help="Retries of a transient network failure."),
]

#: The defaults of the options above, for the commands' signatures.
DEFAULTS: dict[str, Any] = {
    "out": DEFAULT_OUT,
    "max_repo_share": MAX_REPO_SHARE,
    "workers": WORKERS,
    "executor": EXECUTOR,
    "retries": NETWORK_RETRIES,
}


def build_config(**options: Any) -> Any:
    """A ``BuildConfig`` from the shared options a command received (by their names)."""
    from pipelines.build import BuildConfig

    if options.get("only") is not None:
        options["only"] = tuple(options["only"])
    return BuildConfig(**options)
