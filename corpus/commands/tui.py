"""`corpus tui DATASET` (alias `corpus inspect`): browse, search and audit a dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from corpus.commands._common import ExitCode, existing_paths, fail
from corpus.defaults import DEFAULT_DATASET


def register(app: typer.Typer) -> None:
    """Add the tui command and its inspect alias to ``app``."""
    app.command("tui")(tui)
    app.command("inspect", help="Alias of `corpus tui`.")(tui)


def tui(
    dataset: Path = typer.Argument(
        DEFAULT_DATASET,
        help="Dataset folder (data/*.parquet, as `corpus build` writes it), an extract folder "
        "(records.parquet) or one parquet file.",
    ),
) -> None:
    """Browse, search and audit a dataset in the terminal (keys: ? for help, q to quit)."""
    existing_paths([dataset])
    from tui.app import CorpusApp

    app = CorpusApp(dataset)
    code = app.run()
    if app.load_error is not None:
        # Also on stderr once the screen is gone, so the reason survives the TUI.

        fail(app.load_error, ExitCode.BAD_INPUT)
    raise typer.Exit(int(code or 0))
