"""Counts behind the stats screen's plots (plain polars, no Textual)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from corpus.schema import SPLITS

#: Doc-length histogram bins (characters); the last bin is open-ended.
DOC_LENGTH_BINS: tuple[int, ...] = (0, 40, 80, 160, 320, 640, 1280, 2560)


@dataclass(frozen=True)
class Summary:
    """Counts for the stats screen: each is a list of (label, count) in display order."""

    per_repo: list[tuple[str, int]]
    per_kind: list[tuple[str, int]]
    per_split: list[tuple[str, int]]
    doc_lengths: list[tuple[str, int]]
    records: int
    documented: int


def _counts(frame: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    if frame.height == 0:
        return []
    counted = frame.get_column(column).fill_null("-").value_counts(sort=True, name="n")
    # Ties broken by name so the plot order is stable from run to run.
    rows = counted.sort(["n", column], descending=[True, False]).rows()
    return [(str(k), int(n)) for k, n in rows]


def _bin_label(lo: int, hi: int | None) -> str:
    # Short labels ("<80", "2560+") so that a terminal-wide axis can print every one.
    return f"{lo}+" if hi is None else f"<{hi}"


def doc_length_histogram(frame: pl.DataFrame) -> list[tuple[str, int]]:
    """How many documented records have a doc of each length band (characters)."""
    lengths = frame.get_column("doc").drop_nulls().str.len_chars().to_list()
    edges = [*DOC_LENGTH_BINS[1:], None]
    out = []
    for lo, hi in zip(DOC_LENGTH_BINS, edges, strict=True):
        n = sum(1 for x in lengths if x >= lo and (hi is None or x < hi))
        out.append((_bin_label(lo, hi), n))
    return out


def summarise(frame: pl.DataFrame) -> Summary:
    """The counts the stats screen plots, from the prepared frame."""
    per_split = dict(_counts(frame, "split"))
    return Summary(
        per_repo=_counts(frame, "repo"),
        per_kind=_counts(frame, "container_kind"),
        per_split=[(s, per_split.get(s, 0)) for s in SPLITS]
        + [(k, v) for k, v in per_split.items() if k not in SPLITS],
        doc_lengths=doc_length_histogram(frame),
        records=frame.height,
        documented=frame.height - frame.get_column("doc").null_count(),
    )
