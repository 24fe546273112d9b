"""`corpus publish [DATASET] --repo-id ORG/NAME [--private] [--tag TAG] [--force]
[--dry-run --out DIR]`."""

from __future__ import annotations

from pathlib import Path

import typer

from corpus.commands._common import (
    PANEL_PUBLISH,
    ExitCode,
    add_command,
    console,
    existing_paths,
    fail,
    user_errors,
)
from corpus.defaults import DEFAULT_DATASET


def register(app: typer.Typer) -> None:
    """Add the publish command to ``app``."""
    add_command(app, "card", card, PANEL_PUBLISH)
    add_command(app, "publish", publish, PANEL_PUBLISH)


def publish(
    dataset: Path = typer.Argument(
        DEFAULT_DATASET, metavar="DATASET", help="Dataset folder made by `corpus build`."
    ),
    repo_id: str = typer.Option(
        None,
        "--repo-id",
        metavar="ORG/NAME",
        help="Hub dataset repo as ORG/NAME (required unless --dry-run).",
    ),
    private: bool = typer.Option(False, "--private", help="Create the Hub repo as private."),
    tag: str = typer.Option(
        None,
        "--tag",
        metavar="TAG",
        help="Tag for this build (default vYYYY.MM.DD-<content hash>).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Publish even if falsification did not PASS (card says so)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Stage and validate offline; upload nothing (needs --out)."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", metavar="DIR", help="Where --dry-run stages the folder."
    ),
) -> None:
    """Publish a built dataset to the Hugging Face Hub: card, data, reports; one tag per build.

    The token comes from HF_TOKEN or `hf auth login`; HF_ENDPOINT selects another Hub.
    """
    existing_paths([dataset])
    if dry_run and out is None:
        fail("--dry-run needs --out DIR (where to stage the folder)", ExitCode.BAD_INPUT)
    if not dry_run and not repo_id:
        fail("--repo-id ORG/NAME is required (or use --dry-run --out DIR)", ExitCode.BAD_INPUT)
    with user_errors():
        if dry_run:
            from pipelines.publish import stage_dataset

            staged = stage_dataset(dataset, out, force, repo_id=repo_id, tag=tag)
            console.print(f"staged and validated [bold]{staged}[/] (nothing uploaded)")
            return
        from pipelines.publish import publish_dataset

        result = publish_dataset(dataset, repo_id, private=private, tag=tag, force=force)
        if result.changed:
            console.print(
                f"published [bold]{repo_id}[/] commit {result.commit_sha} tag {result.tag}"
            )
        else:
            console.print(
                f"{repo_id} already holds this build (commit {result.commit_sha}, "
                f"tag {result.tag}); nothing committed"
            )
        console.print(result.url)


def card(
    dataset: Path = typer.Argument(
        DEFAULT_DATASET, metavar="DATASET", help="Dataset folder made by `corpus build`."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="FILE", help="Where to write the card (Markdown + YAML)."
    ),
    repo_id: str = typer.Option(
        None, "--repo-id", metavar="ORG/NAME", help="Hub repo the card names (default ORG/NAME)."
    ),
    tag: str = typer.Option(
        None, "--tag", metavar="TAG", help="Tag the card cites (default vYYYY.MM.DD-<hash>)."
    ),
) -> None:
    """Render the dataset card `corpus publish` would upload, validated, to a file.

    A build that did not pass falsification gets the card's warning banner. Exit 2 when the
    folder is not a complete build (data, sources.lock) or the card would not be valid.
    """
    existing_paths([dataset])
    with user_errors():
        from corpus.store import write_bytes_atomic
        from pipelines.publish.stage import card_text

        text = card_text(dataset, repo_id=repo_id, tag=tag)
        write_bytes_atomic(out, text.encode("utf-8"))
    lines = text.count("\n")
    console.print(f"wrote {out} ({lines} lines): the card for {dataset}", markup=False)
