"""The pandera schema of the published record table.

Column types and nullability come from ``corpus.schema.ALL_FIELDS`` (never restated here);
this module adds the value rules: id/SHA/URL regexes, ranges, allowed values, uniqueness.
"""

from __future__ import annotations

from functools import lru_cache

import pandera.polars as pa
import polars as pl
import pyarrow as pyarrow_mod

from corpus.schema import ALL_FIELDS, CONTAINER_KINDS, DOC_SECTIONS, SPLITS, TARGET_KINDS

HEX64 = r"^[0-9a-f]{64}$"
HEX40 = r"^[0-9a-f]{40}$"
REPO = r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
IDENT = r"^[\p{XID_Start}_][\p{XID_Continue}]*$"
RAW_IDENT = r"^(r#)?[\p{XID_Start}_][\p{XID_Continue}]*$"
PERMALINK = (
    r"^https://github\.com/[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*"
    r"/blob/[0-9a-f]{40}/[^\s#]+\.rs#L[1-9][0-9]*-L[1-9][0-9]*$"
)
VISIBILITY = r"^pub(\((crate|self|super|in [A-Za-z0-9_:]+)\))?$"
ORIGIN = r"^(source|macro:\S+)$"
TEST_REASON = r"^(attribute:\S+|cfg_test_module|cfg_test|path:\S+)$"
SPDX = r"^[A-Za-z0-9.+()\- ]+$"
SEMVER = r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$"


def _expr_check(name: str, make_expr) -> pa.Check:
    """A column check from a polars expression on the column (True = valid)."""
    return pa.Check(
        lambda data: data.lazyframe.select(make_expr(pl.col(data.key))),
        name=name,
    )


def _matches(name: str, regex: str) -> pa.Check:
    # Polars' (Rust) regex engine knows Unicode identifier classes; Python's `re` does not.
    return _expr_check(name, lambda c: c.str.contains(regex))


def _safe_path() -> pa.Check:
    # The Rust regex engine has no look-around: spell "relative, no .., ends in .rs" as an expr.
    return _expr_check(
        "relative_rs_path",
        lambda c: (
            (~c.str.starts_with("/"))
            & (~c.str.contains(r"(^|/)\.\.(/|$)"))
            & c.str.ends_with(".rs")
        ),
    )


def _list_in(allowed: tuple[str, ...]) -> pa.Check:
    return _expr_check(
        f"elements_in{allowed}",
        lambda c: c.list.eval(pl.element().is_in(list(allowed))).list.all(),
    )


def _nonblank() -> pa.Check:
    return _expr_check("not_blank", lambda c: c.str.strip_chars().str.len_chars() > 0)


#: The value rules per column, on top of type and nullability.
VALUE_RULES: dict[str, list[pa.Check]] = {
    "id": [pa.Check.str_matches(HEX64)],
    "repo": [pa.Check.str_matches(REPO)],
    "commit": [pa.Check.str_matches(HEX40)],
    "path": [_safe_path()],
    "start_line": [pa.Check.ge(1)],
    "end_line": [pa.Check.ge(1)],
    "start_byte": [pa.Check.ge(0)],
    "end_byte": [pa.Check.ge(1)],
    "permalink": [pa.Check.str_matches(PERMALINK)],
    "name": [_matches("identifier", IDENT)],
    "raw_name": [_matches("raw_identifier", RAW_IDENT)],
    "crate_name": [_matches("identifier", IDENT)],
    "target_kind": [pa.Check.isin(list(TARGET_KINDS))],
    "def_path": [_nonblank()],
    "qualified_path": [_nonblank()],
    "public_path": [_nonblank()],
    "container_kind": [pa.Check.isin(list(CONTAINER_KINDS))],
    "visibility": [pa.Check.str_matches(VISIBILITY)],
    "signature": [_nonblank()],
    "source": [_nonblank()],
    "doc_sections": [_list_in(DOC_SECTIONS)],
    "origin": [pa.Check.str_matches(ORIGIN)],
    "test_reason": [pa.Check.str_matches(TEST_REASON)],
    "license": [pa.Check.str_matches(SPDX)],
    "extractor_version": [pa.Check.str_matches(SEMVER)],
    "grammar_version": [_nonblank()],
    "dup_cluster": [pa.Check.str_matches(HEX64)],
    "split": [pa.Check.isin(list(SPLITS))],
}
UNIQUE = frozenset({"id", "permalink"})


def polars_dtypes() -> dict[str, pl.DataType]:
    """Polars dtype of every column, derived from the Arrow record schema."""
    arrow = pyarrow_mod.schema([pyarrow_mod.field(f.name, f.type) for f in ALL_FIELDS])
    return dict(pl.from_arrow(arrow.empty_table()).schema)


@lru_cache(maxsize=1)
def record_schema() -> pa.DataFrameSchema:
    """The pandera schema of a dataset table (strict: no extra or missing columns)."""
    dtypes = polars_dtypes()
    columns = {
        f.name: pa.Column(
            dtypes[f.name],
            nullable=f.nullable,
            unique=f.name in UNIQUE,
            checks=VALUE_RULES.get(f.name, []),
            description=f.description,
        )
        for f in ALL_FIELDS
    }
    unknown = set(VALUE_RULES) - set(columns)
    if unknown:  # a renamed schema field must not silently drop its rules
        raise RuntimeError(f"value rules for unknown columns: {sorted(unknown)}")
    return pa.DataFrameSchema(columns, strict=True, ordered=False, name="rustdoc-corpus record")
