"""`corpus stats [DATASET] [--json]`: counts per repo, split, container kind, doc section; the
filters' drops and the token figures from stats.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import PANEL_CHECK, add_command, console, user_errors
from corpus.defaults import DEFAULT_DATASET


def register(app: typer.Typer) -> None:
    """Add the stats command to ``app``."""
    add_command(app, "stats", stats, PANEL_CHECK)


def stats(
    dataset: Path = typer.Argument(
        DEFAULT_DATASET,
        metavar="DATASET",
        help="Dataset folder, extract folder (records.parquet) or one parquet file.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object, not tables."),
) -> None:
    """Counts per repo and split, container kind and doc section; drops and tokens.

    The drops by filter and the token figures come from stats.json (tokens when the build
    wrote them). Exit 2 when the dataset cannot be read.
    """
    with user_errors():
        from corpus.store import read_records, read_stats

        frame = read_records(dataset)
        figures = collect(frame, read_stats(dataset), dataset)
    if as_json:
        typer.echo(json.dumps(figures, indent=2, sort_keys=False))
        return
    print_tables(figures)


def collect(frame: Any, stats_json: dict[str, Any], dataset: Path) -> dict[str, Any]:
    """Every figure `corpus stats` shows, as one JSON-ready object."""
    from corpus.summary import per_repo_splits, summarise

    s = summarise(frame, stats_json)
    out: dict[str, Any] = {
        "dataset": str(dataset),
        "records": s.records,
        "documented": s.documented,
        "per_repo": per_repo_splits(frame),
        "per_split": dict(s.per_split),
        "per_container_kind": dict(s.per_kind),
        "per_doc_section": dict(s.per_section),
        "doc_length_chars": dict(s.doc_lengths),
        "filters": dict(s.filters),
    }
    if isinstance(stats_json.get("totals"), dict):
        out["totals"] = stats_json["totals"]
    if isinstance(stats_json.get("tokens"), dict):
        out["tokens"] = stats_json["tokens"]
    return out


def _table(title: str, header: list[str], rows: list[list[Any]]) -> Any:
    from rich.table import Table
    from rich.text import Text

    from corpus.text import show_controls

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(header):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        cells = [f"{v:,}" if isinstance(v, int) else str(v) for v in row]
        table.add_row(Text(show_controls(cells[0])), *cells[1:])
    return table


def print_tables(f: dict[str, Any]) -> None:
    """The figures as rich tables, one per group."""
    splits = [s for s in f["per_split"] if any(s in r for r in f["per_repo"].values())]
    repo_rows = [
        [repo, sum(per.values()), *(per.get(s, 0) for s in splits)]
        for repo, per in sorted(f["per_repo"].items(), key=lambda kv: -sum(kv[1].values()))
    ]
    repo_rows.append(["total", f["records"], *(f["per_split"].get(s, 0) for s in splits)])
    console.print(_table(f"{f['dataset']}: records per repo and split", ["repo", "records",
                         *splits], repo_rows))  # fmt: skip
    total = max(f["records"], 1)
    kinds = [[k, n, f"{100 * n / total:.1f}%"] for k, n in f["per_container_kind"].items()]
    console.print(_table("Container kind", ["kind", "records", "share"], kinds))
    sections = [[k, n, f"{100 * n / total:.1f}%"] for k, n in f["per_doc_section"].items()]
    console.print(_table("Doc sections", ["section", "records", "share"], sections))
    lengths = [[k, n] for k, n in f["doc_length_chars"].items()]
    console.print(_table("Doc length", ["characters", "records"], lengths))
    if f["filters"]:
        drops = [[k, n] for k, n in f["filters"].items()]
        console.print(_table("Filters (stats.json)", ["reason", "records"], drops))
    if "tokens" in f:
        print_tokens(f["tokens"])
    console.print(f"{f['documented']:,} of {f['records']:,} records documented", markup=False)


def _token_table(title: str, t: Any, *, spacious: bool = True) -> Any:
    """The splits-by-figures table of ``t`` (a TokenTable); not ``spacious``, it has one space
    between columns and no rule under the header: 78 columns for the figures of a build."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from corpus.summary import token_label
    from corpus.text import show_controls

    notes = [f"{k.replace('_', ' ')} {v}" for k, v in t.notes]
    legend = "prompt, answer, total: tokens; p50 ... max: tokens per example; >N: examples "
    legend += "longer than N tokens"
    table = Table(title=title, title_justify="left", caption=" · ".join([legend, *notes]),
                  caption_justify="left", box=box.SIMPLE_HEAD if spacious else None,
                  show_edge=False, padding=(0, 0, 0, 1), pad_edge=False)  # fmt: skip
    table.add_column("split", no_wrap=True)
    for column in t.columns:
        table.add_column(token_label(column), justify="right", no_wrap=True)
    for split, figures in t.rows:
        cells = [figures.get(c, "-") for c in t.columns]
        table.add_row(Text(show_controls(split)),
                      *(f"{v:,}" if isinstance(v, int) else str(v) for v in cells))  # fmt: skip
    return table


def print_tokens(tokens: dict[str, Any]) -> None:
    """stats.json's token figures: one table with a row per split and a column per figure
    (figures outside the splits, if any, listed after it)."""
    from corpus.summary import token_table

    t = token_table(tokens)
    title = "Tokens (stats.json)"
    if t.rows:
        table = _token_table(title, t)
        natural = console.measure(table, options=console.options.update_width(1000)).maximum
        if natural > console.width:
            table = _token_table(title, t, spacious=False)  # a number is never cut short
        console.print(table)
        title = "Tokens, other figures (stats.json)"
    if t.other:
        console.print(_table(title, ["figure", "value"], [[k, v] for k, v in t.other]))
