"""Filters and incremental search over the prepared records frame (plain polars, no Textual).

A ``Filters`` value is a conjunction: each field that is set narrows the rows, and the order in
which fields are applied never matters (tested as a property).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import polars as pl

from corpus.errors import BadInputError

#: ``Filters.fails_check`` value meaning "fails at least one check".
ANY_CHECK = "*"


class SearchError(BadInputError):
    """The search text is not a valid regular expression."""


@dataclass(frozen=True)
class Filters:
    """What the records screen shows. ``None`` means "any" for every field."""

    repo: str | None = None
    container_kind: str | None = None
    visibility: str | None = None  # as written, or "-" for no visibility (private)
    split: str | None = None
    has_examples: bool | None = None
    is_test: bool | None = None
    macro_origin: bool | None = None
    fails_check: str | None = None  # a check id, or ANY_CHECK
    search: str = ""
    regex: bool = False

    def only(self, name: str) -> Filters:
        """These filters with every field but ``name`` (and the regex flag) reset."""
        keep = {name: getattr(self, name)}
        if name == "search":
            keep["regex"] = self.regex
        return Filters(**keep)

    def parts(self) -> list[Filters]:
        """One ``Filters`` per field that is set: their conjunction is ``self``."""
        return [
            self.only(f.name)
            for f in fields(self)
            if f.name != "regex" and getattr(self, f.name) not in (None, "")
        ]

    def cleared(self) -> Filters:
        """No filters, no search."""
        return Filters()

    def with_(self, **changes: object) -> Filters:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def _bool(expr: pl.Expr, want: bool) -> pl.Expr:
    return expr if want else ~expr


def search_expr(text: str, regex: bool) -> pl.Expr | None:
    """The search predicate over the ``haystack`` column (case-insensitive), None if no search.

    A regex runs in multi-line mode, so ``^``/``$`` anchor at each of name, path, doc line.
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
    if f.fails_check == ANY_CHECK:
        preds.append(pl.col("failed_checks").list.len() > 0)
    elif f.fails_check is not None:
        preds.append(pl.col("failed_checks").list.contains(f.fails_check))
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


def choices(frame: pl.DataFrame, column: str) -> list[str]:
    """The distinct non-null values of ``column``, sorted: the options of a filter."""
    if column not in frame.columns or frame.height == 0:
        return []
    return sorted(v for v in frame.get_column(column).unique().to_list() if v is not None)
