"""`corpus tui [DATASET] [--runs DIR]` (alias `corpus inspect`): browse, search and audit a
dataset; watch training runs."""

from __future__ import annotations

from pathlib import Path

import typer

from corpus.commands._common import PANEL_CHECK, ExitCode, add_command, fail, user_errors
from corpus.defaults import DEFAULT_DATASET


def register(app: typer.Typer) -> None:
    """Add the tui command and its inspect alias to ``app``."""
    add_command(app, "tui", tui, PANEL_CHECK)
    add_command(app, "inspect", tui, PANEL_CHECK, help="Alias of `corpus tui`.")


def tui(
    dataset: Path | None = typer.Argument(
        None,
        metavar="DATASET",
        show_default=False,
        help="Dataset folder (data/*.parquet, as `corpus build` writes it), an extract folder "
        f"(records.parquet) or one parquet file [default: {DEFAULT_DATASET}; none with --runs].",
    ),
    runs: Path | None = typer.Option(
        None,
        "--runs",
        metavar="DIR",
        help="Also (or only) watch training runs: DIR holds `corpus train --out` folders, or is "
        "one. Opens on the Runs screen when no DATASET is given.",
    ),
) -> None:
    """Browse, search and audit a dataset in the terminal; watch training runs (? for help).

    A dataset that cannot be opened (missing, no parquet files, unreadable stats.json or
    falsification.json) exits 2 before the screen is taken over.
    """
    if dataset is None and runs is None:
        dataset = Path(DEFAULT_DATASET)
    with user_errors():
        from tui.preflight import check_dataset, check_runs_dir

        if dataset is not None:
            check_dataset(dataset)
        if runs is not None:
            check_runs_dir(runs)
    from tui.app import CorpusApp

    app = CorpusApp(dataset, runs=runs)
    code = app.run()
    if app.load_error is not None:
        # Also on stderr once the screen is gone, so the reason survives the TUI.
        fail(app.load_error, ExitCode.BAD_INPUT)
    raise typer.Exit(int(code or 0))
