"""Counts of a record table: per repo, container kind, split, doc section and doc length, plus
stats.json's filter and token figures. The TUI's stats screen charts them; `corpus stats`
prints them (plain polars)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    #: Records whose doc has each section heading (Examples, Errors, ...).
    per_section: list[tuple[str, int]] = field(default_factory=list)
    #: stats.json's filter counts: records dropped (or redacted) for each reason.
    filters: list[tuple[str, int]] = field(default_factory=list)
    #: stats.json's ``tokens`` section, flattened to (dotted key, number), when it has one.
    tokens: list[tuple[str, float]] = field(default_factory=list)


def _counts(frame: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    if frame.height == 0 or column not in frame.columns:
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


def section_counts(frame: pl.DataFrame) -> list[tuple[str, int]]:
    """How many records have each doc section, most common first."""
    if frame.height == 0 or "doc_sections" not in frame.columns:
        return []
    sections = frame.get_column("doc_sections").explode().drop_nulls()
    counted = sections.value_counts(sort=True, name="n")
    rows = counted.sort(["n", "doc_sections"], descending=[True, False]).rows()
    return [(str(k), int(n)) for k, n in rows]


def numbers(obj: Any, prefix: str = "", limit: int = 24) -> list[tuple[str, float]]:
    """The numeric leaves of a JSON value as (dotted key, number), in file order."""
    out: list[tuple[str, float]] = []
    if isinstance(obj, bool):
        return out
    if isinstance(obj, int | float):
        return [(prefix or "value", obj)]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += numbers(value, f"{prefix}.{key}" if prefix else str(key), limit - len(out))
            if len(out) >= limit:
                break
    return out[:limit]


#: The token figures of a split, in the order `corpus stats` shows them (others follow).
TOKEN_FIGURES = ("examples", "prompt_tokens", "answer_tokens", "tokens",
                 "length.p50", "length.p90", "length.p99", "length.max")  # fmt: skip
_TOKEN_LABELS = {"prompt_tokens": "prompt", "answer_tokens": "answer", "tokens": "total"}


@dataclass(frozen=True)
class TokenTable:
    """stats.json's ``tokens`` section laid out as a table: a row per split (a section with an
    ``examples`` count), a column per figure; what sits outside the splits is kept apart."""

    #: Dotted figure keys (``length.p99``, ``longer_than.512``), in display order.
    columns: list[str]
    #: (split, {dotted key: number}) in split order.
    rows: list[tuple[str, dict[str, float]]]
    #: Numeric figures that belong to no split, as (dotted key, number).
    other: list[tuple[str, float]]
    #: Text figures (tokenizer, prompt_input), as (key, text).
    notes: list[tuple[str, str]]


def token_label(key: str) -> str:
    """A short column header for the dotted figure ``key``: ``p99``, ``>512``, ``>2k`` (for
    ``longer_than.2048``), ``prompt`` (for ``prompt_tokens``)."""
    group, _, leaf = key.rpartition(".")
    if group == "length":
        return leaf
    if group == "longer_than":
        n = int(leaf) if leaf.isdigit() else 0
        return f">{n // 1024}k" if n and n % 1024 == 0 else f">{leaf}"
    return _TOKEN_LABELS.get(key, key)


def _column_order(key: str) -> tuple[int, float, str]:
    if key in TOKEN_FIGURES:
        return (0, TOKEN_FIGURES.index(key), key)
    group, _, leaf = key.rpartition(".")
    if group == "longer_than" and leaf.isdigit():
        return (1, int(leaf), key)  # 512 before 1024 (the file sorts them as text)
    return (2, 0, key)


def token_table(tokens: dict[str, Any]) -> TokenTable:
    """``tokens`` (stats.json's section, as ``corpus.tokens.token_stats`` writes it) as a
    table of splits by figures."""
    splits = [k for k, v in tokens.items() if isinstance(v, dict) and "examples" in v]
    order = {s: i for i, s in enumerate(SPLITS)}
    splits.sort(key=lambda s: order.get(s, len(order)))
    rows = [(s, dict(numbers(tokens[s], limit=1000))) for s in splits]
    seen = dict.fromkeys(k for _, figures in rows for k in figures)
    rest = {k: v for k, v in tokens.items() if k not in splits}
    notes = [(k, str(v)) for k, v in rest.items() if isinstance(v, str)]
    return TokenTable(sorted(seen, key=_column_order), rows, numbers(rest, limit=60), notes)


def _int_items(obj: Any) -> list[tuple[str, int]]:
    if not isinstance(obj, dict):
        return []
    items = [(str(k), int(v)) for k, v in obj.items() if isinstance(v, int) and v >= 0]
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))


def summarise(frame: pl.DataFrame, stats: dict[str, Any] | None = None) -> Summary:
    """The counts the stats screen draws, from the prepared frame (and stats.json)."""
    stats = stats or {}
    per_split = dict(_counts(frame, "split"))
    return Summary(
        per_repo=_counts(frame, "repo"),
        per_kind=_counts(frame, "container_kind"),
        per_split=[(s, per_split.get(s, 0)) for s in SPLITS]
        + [(k, v) for k, v in per_split.items() if k not in SPLITS],
        doc_lengths=doc_length_histogram(frame),
        records=frame.height,
        documented=frame.height - frame.get_column("doc").null_count(),
        per_section=section_counts(frame),
        filters=_int_items(stats.get("filters")),
        tokens=numbers(stats.get("tokens")) if isinstance(stats.get("tokens"), dict) else [],
    )


def per_repo_splits(frame: pl.DataFrame) -> dict[str, dict[str, int]]:
    """repo -> split -> records (``-`` for records without a split, as in an extract)."""
    if frame.height == 0:
        return {}
    splits = frame.get_column("split") if "split" in frame.columns else None
    keyed = frame.select(
        pl.col("repo"),
        (splits.fill_null("-") if splits is not None else pl.lit("-")).alias("split"),
    )
    out: dict[str, dict[str, int]] = {}
    for repo, split, n in keyed.group_by(["repo", "split"]).len().sort(["repo", "split"]).rows():
        out.setdefault(str(repo), {})[str(split)] = int(n)
    return out
