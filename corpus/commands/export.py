"""`corpus export DATASET --format chatml|jsonl|alpaca [--split S]... --out FILE`."""

from __future__ import annotations

from pathlib import Path

import typer

from corpus.commands._common import PANEL_PUBLISH, add_command, console, user_errors
from corpus.commands._options import DatasetConfig
from corpus.defaults import DEFAULT_DATASET


def register(app: typer.Typer) -> None:
    """Add the export command to ``app``."""
    add_command(app, "export", export, PANEL_PUBLISH)


def export(
    dataset: str = typer.Argument(
        str(DEFAULT_DATASET), metavar="DATASET", help="Dataset folder or Hub ORG/NAME[@rev]."
    ),
    fmt: str = typer.Option(
        "chatml", "--format", "-f", metavar="chatml|jsonl|alpaca", help="Line shape (see README)."
    ),
    split: list[str] = typer.Option(
        ["train"], "--split", "-s", metavar="SPLIT", help="train, validation, test (repeatable)."
    ),
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE", help="The .jsonl to write."),
    config: DatasetConfig = "default",
    prompt_input: str = typer.Option(
        "context",
        "--prompt-input",
        metavar="signature|context|source",
        help="What the user turn shows (as the trainer's prompt_input).",
    ),
    include_tests: bool = typer.Option(False, "--include-tests", help="Keep test functions."),
) -> None:
    """Write the exact conversations the trainer sees, for Unsloth, axolotl or LLaMA-Factory."""
    with user_errors():
        from corpus.errors import BadInputError
        from corpus.export import export as run_export
        from corpus.prompt import PromptSpec
        from corpus.schema import SPLITS
        from corpus.store import read_dataset

        bad = [s for s in split if s not in SPLITS]
        if bad:
            raise BadInputError(f"--split {bad[0]!r}: choose from {', '.join(SPLITS)}")
        spec = PromptSpec(input=prompt_input)
        records = read_dataset(dataset, config).to_dicts()
        res = run_export(records, fmt, out, splits=tuple(split), spec=spec,
                         include_tests=include_tests)  # fmt: skip
    per = ", ".join(f"{n} {s}" for s, n in res.per_split.items())
    console.print(f"wrote {res.rows} conversations ({per}) to {res.path}", markup=False)
