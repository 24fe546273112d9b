"""`corpus validate [DATASET]`: the schema and integrity checks alone, fast (no clones, no
sampling): the falsification suite's ``integrity`` and ``syntax`` categories.

Exit codes: 0 every check passes, 1 one fails, 2 the dataset cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import (
    PANEL_CHECK,
    ExitCode,
    add_command,
    console,
    fail,
    user_errors,
)
from corpus.defaults import DEFAULT_DATASET

#: The categories `validate` runs: they read only the dataset (no clones), and nothing sampled.
CATEGORIES = ("integrity", "syntax")


def register(app: typer.Typer) -> None:
    """Add the validate command to ``app``."""
    add_command(app, "validate", validate, PANEL_CHECK)


def validate(
    dataset: Path = typer.Argument(
        DEFAULT_DATASET,
        metavar="DATASET",
        help="Dataset dir (data/*.parquet, stats.json, sources.lock).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON, not a table."),
) -> None:
    """Schema and integrity checks only, in seconds: exit 0 valid, 1 not, 2 unreadable.

    Runs the falsification suite's integrity (schema, ids, spans, stats) and syntax (signatures
    and doc code blocks parse, clean doc text) checks; writes nothing. `corpus falsify` runs
    all 42 checks, with the clones.
    """
    with user_errors():
        from corpus.errors import BadInputError

        if not dataset.exists():
            raise BadInputError(f"{dataset}: no such dataset (run `corpus build` first)")
        from falsification import run_suite
        from falsification.registry import all_checks

        ids = [c.id for c in all_checks() if c.category in CATEGORIES]
        report = run_suite(dataset, only=ids)
    failed = report.failed
    if as_json:
        import json

        checks = report.to_json()["checks"]
        typer.echo(json.dumps({"valid": not failed, "checks": checks}, indent=2))
    else:
        console.print(_table(report))
    if failed:
        fail(
            f"{dataset}: {len(failed)} of {len(report.checks)} checks failed: "
            + ", ".join(c.id for c in failed),
            ExitCode.FAILURE,
        )
    if not as_json:
        console.print(
            f"valid: {len(report.checks)} {' and '.join(CATEGORIES)} checks pass on "
            f"{report.records:,} records in {report.duration_s:.1f} s (`corpus falsify` runs "
            "the whole suite)",
            markup=False,
        )


def _table(report: Any) -> Any:
    from rich.table import Table
    from rich.text import Text

    from corpus.text import show_controls

    table = Table(title=f"corpus validate: {len(report.checks)} checks", title_justify="left")
    for col in ("check", "result", "evidence"):
        table.add_column(col, overflow="fold")
    for c in report.checks:
        result = Text("pass", style="green") if c.passed else Text("FAIL", style="bold red")
        evidence = c.evidence + (" | e.g. " + ", ".join(i[:12] for i in c.offending_ids[:3])
                                 if c.offending_ids else "")  # fmt: skip
        table.add_row(Text(c.id), result, Text(show_controls(evidence)))
    return table
