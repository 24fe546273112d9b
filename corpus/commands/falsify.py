"""`corpus falsify [DATASET] [--sources-dir DIR] [--out DIR]`: the 100-point suite.

Exit codes: 0 PASS (score >= 95, no critical failure), 3 WARN (85-94, no critical failure),
1 FAIL, 2 the corpus (or an option) cannot be read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import (
    PANEL_CHECK,
    ExitCode,
    add_command,
    console,
    err_console,
    user_errors,
)
from corpus.defaults import DEFAULT_DATASET

VERDICT_EXIT = {"PASS": ExitCode.OK, "WARN": ExitCode.WARN, "FAIL": ExitCode.FAILURE}


def register(app: typer.Typer) -> None:
    """Add the falsify command to ``app``."""
    add_command(app, "falsify", falsify, PANEL_CHECK)


def falsify(
    dataset: Path = typer.Argument(
        DEFAULT_DATASET,
        metavar="DATASET",
        help="Dataset dir (data/*.parquet, stats.json, sources.lock).",
    ),
    sources_dir: Path | None = typer.Option(
        None,
        "--sources-dir",
        metavar="DIR",
        help="Clones as <DIR>/<owner>/<name> (default: the clone cache `corpus build` used, "
        "$CORPUS_CACHE_DIR or $XDG_CACHE_HOME/rustdoc-corpus/repos, when it exists; without "
        "clones the provenance checks fail).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        metavar="DIR",
        help="Where to write falsification.json/.md (default: DATASET).",
    ),
    seed: int = typer.Option(
        0, "--seed", metavar="N", help="Seed of the sampled and generated checks."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON report, not a table."),
) -> None:
    """Run the falsification suite; exit 0 PASS, 3 WARN, 1 FAIL, 2 unreadable corpus."""
    with user_errors():
        from corpus.errors import BadInputError

        if not dataset.exists():
            raise BadInputError(f"{dataset}: no such dataset (run `corpus build` first)")
        from corpus.layout import dataset_base
        from falsification import run_suite, write_report

        if sources_dir is None:
            from corpus.clone import default_cache_dir

            cache = default_cache_dir()
            sources_dir = cache if cache.is_dir() else None
            if sources_dir is None:
                err_console.print(
                    f"[yellow]warning:[/] no clones at {cache}: provenance checks cannot pass "
                    "(pass --sources-dir, or run `corpus clone`)",
                    markup=True,
                )
        report = run_suite(dataset, sources_dir, seed=seed, workers=os.cpu_count() or 1)
        jpath, mpath = write_report(report, out or dataset_base(dataset))
    _print_report(report, jpath, mpath, as_json)
    raise typer.Exit(int(VERDICT_EXIT[report.verdict]))


def _print_report(report: Any, jpath: Path, mpath: Path, as_json: bool) -> None:
    """The report as JSON, or as the table, the category sums and the verdict line."""
    if as_json:
        import json

        console.print_json(json.dumps(report.to_json()))
        return
    console.print(report.rich_table())
    for cat, v in report.categories.items():
        console.print(f"  {cat:<13} {v['score']:>3}/{v['max']}")
    if report.critical_failures:
        console.print(
            "[bold red]critical failures:[/] " + ", ".join(report.critical_failures),
            markup=True,
        )
    style = {"PASS": "green", "WARN": "yellow"}.get(report.verdict, "red")
    console.print(
        f"[bold {style}]{report.verdict}[/] {report.score}/{report.max_score} "
        f"in {report.duration_s:.1f} s; wrote {jpath} and {mpath}",
        markup=True,
    )
