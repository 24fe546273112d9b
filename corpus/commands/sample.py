"""`corpus sample -n N` (random records, pretty) and `corpus review -n N --out FILE` (a Markdown
review sheet with a checklist per record). Both pick the same records for the same seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import PANEL_CHECK, add_command, console, user_errors
from corpus.defaults import DEFAULT_DATASET

_DATASET = typer.Argument(
    DEFAULT_DATASET,
    metavar="DATASET",
    help="Dataset folder, extract folder (records.parquet) or one parquet file.",
)
_SEED = typer.Option(
    0, "--seed", metavar="N", help="Seed of the random pick (same seed, same records)."
)
_SPLIT = typer.Option(None, "--split", metavar="SPLIT", help="Only records of this split.")


def register(app: typer.Typer) -> None:
    """Add the sample and review commands to ``app``."""
    add_command(app, "sample", sample, PANEL_CHECK)
    add_command(app, "review", review, PANEL_CHECK)


def sample(
    dataset: Path = _DATASET,
    n: int = typer.Option(5, "-n", "--count", min=1, metavar="N", help="How many records."),
    seed: int = _SEED,
    split: str | None = _SPLIT,
) -> None:
    """Print N random records (seeded): where each comes from, its signature and its doc."""
    with user_errors():
        from corpus.review import pick

        records = pick(dataset, n, seed=seed, split=split)
    for i, rec in enumerate(records, 1):
        console.print(_panel(rec, i, len(records)))


def review(
    dataset: Path = _DATASET,
    n: int = typer.Option(20, "-n", "--count", min=1, metavar="N", help="How many records."),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="FILE", help="The Markdown review sheet to write."
    ),
    seed: int = _SEED,
    split: str | None = _SPLIT,
) -> None:
    """Write a Markdown review sheet: N random records (seeded), each with a checklist."""
    with user_errors():
        from corpus.review import pick, review_sheet
        from corpus.store import write_bytes_atomic

        records = pick(dataset, n, seed=seed, split=split)
        text = review_sheet(records, dataset=str(dataset), seed=seed)
        write_bytes_atomic(out, text.encode("utf-8"))
    console.print(f"wrote {out}: {len(records)} records to review (seed {seed})", markup=False)


def _panel(rec: dict[str, Any], i: int, total: int) -> Any:
    """One record as a rich panel; every corpus text is shown literally, controls visible."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.syntax import Syntax
    from rich.text import Text

    from corpus.text import show_controls

    where = Text(
        show_controls(f"{rec['repo']} {rec['path']}:{rec['start_line']}-{rec['end_line']}"),
        style="dim",
    )
    meta = Text(show_controls(f"{rec['container_kind']} · split {rec.get('split') or '-'}"),
                style="dim")  # fmt: skip
    # On a line of its own, folded when too long: never word-wrapped away from a dangling "·".
    link = Text(show_controls(rec["permalink"]), style="dim", overflow="fold")
    signature = Syntax(show_controls(rec["signature"]), "rust", theme="monokai", word_wrap=True)
    doc = Text(show_controls(rec.get("doc") or "(no doc comment)"))
    title = Text(f"{i}/{total}  ") + Text(show_controls(rec["qualified_path"]), style="bold")
    return Panel(Group(where, meta, link, Text(""), signature, Text(""), doc), title=title,
                 title_align="left")  # fmt: skip
