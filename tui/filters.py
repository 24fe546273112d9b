"""Filters, incremental search and sort over the prepared records frame (plain polars).

What to show is a ``tui.query`` value (``Filters``, ``Sort``); this module applies it.
"""

from __future__ import annotations

import polars as pl

from tui.query import (
    ANY_FAILED,
    ANY_NAMED,
    SORT_KEYS,
    Filters,
    SearchError,
    Sort,
)

__all__ = ["ANY_FAILED", "ANY_NAMED", "Filters", "SearchError", "Sort", "apply_filters",
           "apply_view", "choices"]  # fmt: skip


def _bool(expr: pl.Expr, want: bool) -> pl.Expr:
    return expr if want else ~expr


def search_expr(text: str, regex: bool) -> pl.Expr | None:
    """The search predicate over the ``haystack`` column (case-insensitive), None if no search.

    The haystack holds the name, path, qualified name, signature and doc, one per line (the doc
    over several); a regex runs in multi-line mode, so ``^``/``$`` anchor at each line.
    """
    if not text:
        return None
    if regex:
        return pl.col("haystack").str.contains(f"(?im){text}")
    return pl.col("haystack").str.contains(text.lower(), literal=True)


def filter_expr(f: Filters) -> pl.Expr:
    """The predicate for ``f`` over a frame made by ``tui.data.prepare_frame``."""
    preds: list[pl.Expr] = []
    if f.repo is not None:
        preds.append(pl.col("repo") == f.repo)
    if f.container_kind is not None:
        preds.append(pl.col("container_kind") == f.container_kind)
    if f.visibility is not None:
        preds.append(pl.col("vis") == f.visibility)
    if f.split is not None:
        preds.append(pl.col("split") == f.split)
    if f.has_examples is not None:
        preds.append(_bool(pl.col("doc_sections").list.contains("Examples"), f.has_examples))
    if f.is_test is not None:
        preds.append(_bool(pl.col("is_test"), f.is_test))
    if f.macro_origin is not None:
        preds.append(_bool(pl.col("origin").str.starts_with("macro:"), f.macro_origin))
    if f.check == ANY_FAILED:
        preds.append(pl.col("failed_checks").list.len() > 0)
    elif f.check == ANY_NAMED:
        preds.append(pl.col("named_checks").list.len() > 0)
    elif f.check is not None:
        preds.append(pl.col("named_checks").list.contains(f.check))
    search = search_expr(f.search, f.regex)
    if search is not None:
        preds.append(search)
    return pl.all_horizontal(preds) if preds else pl.lit(True)


def check_regex(pattern: str) -> None:
    """Raise SearchError with the engine's message when ``pattern`` is not a valid regex."""
    try:
        pl.DataFrame({"haystack": [""]}).select(search_expr(pattern, True))
    except pl.exceptions.PolarsError as exc:
        # polars prints the regex engine's report first; its "error:" line says what is wrong.
        reason = next(
            (
                ln.strip()[len("error:") :].strip()
                for ln in str(exc).splitlines()
                if ln.strip().startswith("error:")
            ),
            "not a valid regular expression",
        )
        raise SearchError(f"invalid regex {pattern!r}: {reason}") from exc


def apply_filters(frame: pl.DataFrame, f: Filters) -> pl.DataFrame:
    """The rows of ``frame`` that ``f`` keeps, in their original order.

    Raises SearchError (not a polars error) for an invalid regex.
    """
    if f.regex and f.search:
        check_regex(f.search)
    return frame.filter(filter_expr(f))


def apply_view(frame: pl.DataFrame, f: Filters, sort: Sort | None = None) -> pl.DataFrame:
    """The rows ``f`` keeps, in ``sort``'s order (ties keep the dataset's order)."""
    rows = apply_filters(frame, f)
    if sort is None or sort.column is None:
        return rows
    keys = list(SORT_KEYS[sort.column])
    return rows.sort(keys, descending=sort.descending, nulls_last=True, maintain_order=True)


def choices(frame: pl.DataFrame, column: str) -> list[str]:
    """The distinct non-null values of ``column``, sorted: the options of a filter."""
    if column not in frame.columns or frame.height == 0:
        return []
    return sorted(v for v in frame.get_column(column).unique().to_list() if v is not None)
