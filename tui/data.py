"""Loading a dataset for the TUI: records plus the derived columns the screens show.

No Textual here: this module is plain polars so it can be tested (and benchmarked) alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from corpus.errors import BadInputError
from corpus.layout import FALSIFICATION_JSON, dataset_base
from corpus.store import read_records, read_stats
from falsification.report import Report


@dataclass
class Corpus:
    """Everything the TUI shows about one dataset."""

    path: Path
    frame: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)
    falsification: Report | None = None

    @property
    def name(self) -> str:
        """The dataset's folder (or file) name: shown instead of the full, machine-specific path."""
        return self.path.name or str(self.path)

    def record(self, row_id: str) -> dict[str, Any] | None:
        """The full record with id ``row_id`` (None if there is none)."""
        hit = self.frame.filter(pl.col("id") == row_id)
        return hit.row(0, named=True) if hit.height else None


def checks_by_record(report: Report | None, *, failed_only: bool) -> dict[str, list[str]]:
    """Record id -> ids of the checks that name it among their offending records, in report
    order: every such check, or (``failed_only``) only the checks that failed.

    A *passed* check may name records too: a threshold check (say, at most 1% of docs not in
    English) passes with its few offenders listed.
    """
    out: dict[str, list[str]] = {}
    for check in report.checks if report else ():
        if failed_only and check.passed:
            continue
        for rid in dict.fromkeys(check.offending_ids):
            out.setdefault(rid, []).append(check.id)
    return out


def failed_checks_by_record(report: Report | None) -> dict[str, list[str]]:
    """Record id -> ids of the failed checks that name it as offending."""
    return checks_by_record(report, failed_only=True)


def _flags_expr() -> pl.Expr:
    parts = [
        pl.when(pl.col("doc_sections").list.contains("Examples")).then(pl.lit("E")),
        pl.when(pl.col("is_test")).then(pl.lit("T")),
        pl.when(pl.col("origin").str.starts_with("macro:")).then(pl.lit("M")),
        pl.when(pl.col("is_unsafe")).then(pl.lit("U")),
        pl.when(pl.col("is_async")).then(pl.lit("A")),
        pl.when(pl.col("redacted")).then(pl.lit("R")),
        pl.when(pl.col("failed_checks").list.len() > 0).then(pl.lit("!")),
    ]
    return pl.concat_str([p.otherwise(pl.lit("")) for p in parts]).alias("flags")


def prepare_frame(records: pl.DataFrame, report: Report | None = None) -> pl.DataFrame:
    """Records plus the derived columns the TUI filters, searches and displays.

    Derived once at load so that a keystroke only runs a filter over ready columns.
    """
    ids = records.get_column("id").to_list()
    columns = []
    for name, failed_only in (("failed_checks", True), ("named_checks", False)):
        by_record = checks_by_record(report, failed_only=failed_only)
        values = [by_record.get(i, []) for i in ids]
        columns.append(pl.Series(name, values, dtype=pl.List(pl.String)))
    df = records.with_columns(columns)
    # Build columns absent from an extract-only table still need a value to filter on.
    for name, value in (("split", None), ("dup_cluster", None), ("redacted", False)):
        if name not in df.columns:
            df = df.with_columns(pl.lit(value).alias(name))
    return df.with_columns(
        pl.format("{}:{}", pl.col("path"), pl.col("start_line")).alias("location"),
        # The owner adds little in a narrow column; the full owner/name is in the detail view.
        pl.col("repo").str.split("/").list.last().alias("repo_name"),
        pl.col("visibility").fill_null("-").alias("vis"),
        # One line, no newlines: the table shows it as a single row.
        pl.col("doc_summary").fill_null("").str.replace_all(r"\s+", " ").alias("summary"),
        _flags_expr(),
        # The search haystack, lower-cased once: name, path, qualified name, signature, doc.
        pl.concat_str(
            [
                pl.col("name"),
                pl.col("path"),
                pl.col("qualified_path"),
                pl.col("signature"),
                pl.col("doc").fill_null(""),
            ],
            separator="\n",
        )
        .str.to_lowercase()
        .alias("haystack"),
    )


def load_corpus(path: Path) -> Corpus:
    """Read a dataset path (dir or parquet file) and its reports, ready for the screens.

    Raises BadInputError with an actionable message when the path is missing or corrupt.
    """
    path = Path(path)
    records = read_records(path)
    base = dataset_base(path)
    report = None
    fals_file = base / FALSIFICATION_JSON
    if fals_file.exists():
        report = Report.read(fals_file)
    stats = read_stats(path)
    if not isinstance(stats, dict):
        raise BadInputError(f"{base / 'stats.json'}: expected a JSON object")
    return Corpus(
        path=path, frame=prepare_frame(records, report), stats=stats, falsification=report
    )
