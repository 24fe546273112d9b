"""Filtering, search, loading and summary logic of the TUI: plain polars, no Textual."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.errors import BadInputError
from corpus.layout import FALSIFICATION_JSON
from corpus.schema import CONTAINER_KINDS, RECORD_SCHEMA, SPLITS
from corpus.store import write_parquet
from corpus.summary import summarise
from falsification.report import Report
from tests.tui_fixtures import (
    FAILED_CHECKS,
    MARKUP_DOC,
    PASSED_NAMING,
    REPOS,
    falsification_report,
    make_tui_dataset,
    varied_records,
)
from tui.data import load_corpus, prepare_frame
from tui.filters import (
    ANY_FAILED,
    ANY_NAMED,
    Filters,
    SearchError,
    Sort,
    apply_filters,
    apply_view,
    choices,
)

RECORDS = varied_records(60)
REPORT = Report.from_json(falsification_report(RECORDS))
FRAME = prepare_frame(pl.DataFrame(RECORDS, schema=pl.Schema(RECORD_SCHEMA)), REPORT)
FAILED = {c.id: set(c.offending_ids) for c in REPORT.failed}
NAMED = {c.id: set(c.offending_ids) for c in REPORT.checks if c.offending_ids}


def ids(frame: pl.DataFrame) -> list[str]:
    return frame.get_column("id").to_list()


def oracle(rec: dict[str, Any], f: Filters) -> bool:
    """A plain-Python reading of each filter, to check the polars one against."""
    failed = {cid for cid, offending in FAILED.items() if rec["id"] in offending}
    named = {cid for cid, offending in NAMED.items() if rec["id"] in offending}
    fields = ("name", "path", "qualified_path", "signature", "doc")
    hay = "\n".join(rec[k] or "" for k in fields)
    return all(
        [
            f.repo is None or rec["repo"] == f.repo,
            f.container_kind is None or rec["container_kind"] == f.container_kind,
            f.visibility is None or (rec["visibility"] or "-") == f.visibility,
            f.split is None or rec["split"] == f.split,
            f.has_examples is None or ("Examples" in rec["doc_sections"]) == f.has_examples,
            f.is_test is None or rec["is_test"] == f.is_test,
            f.macro_origin is None or rec["origin"].startswith("macro:") == f.macro_origin,
            f.check is None
            or (f.check == ANY_FAILED and bool(failed))
            or (f.check == ANY_NAMED and bool(named))
            or f.check in named,
            not f.search
            or (
                re.search(f.search, hay, re.I | re.M) is not None
                if f.regex
                else f.search.lower() in hay.lower()
            ),
        ]
    )


def maybe(values: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.sampled_from(values))


filters_st = st.builds(
    Filters,
    repo=maybe([*REPOS, "nobody/none"]),
    container_kind=maybe(CONTAINER_KINDS),
    visibility=maybe(["pub", "pub(crate)", "-"]),
    split=maybe(SPLITS),
    has_examples=maybe([True, False]),
    is_test=maybe([True, False]),
    macro_origin=maybe([True, False]),
    check=maybe([ANY_FAILED, ANY_NAMED, *NAMED, "integrity.ids_unique", "no.such_check"]),
    search=st.text(alphabet="func_1234 ADSTOmx.`[/]", max_size=6),
    regex=st.just(False),
)


@settings(max_examples=150, deadline=None)
@given(filters_st)
def test_filters_match_a_plain_python_oracle(f: Filters) -> None:
    expected = [r["id"] for r in RECORDS if oracle(r, f)]
    # The frame is in the dataset's stable order; the oracle runs over the same order.
    assert sorted(ids(apply_filters(FRAME, f))) == sorted(expected)


@settings(max_examples=100, deadline=None)
@given(filters_st)
def test_combining_filters_is_the_intersection_of_each(f: Filters) -> None:
    combined = set(ids(apply_filters(FRAME, f)))
    each = [set(ids(apply_filters(FRAME, part))) for part in f.parts()]
    assert combined == set.intersection(set(ids(FRAME)), *each)


@settings(max_examples=100, deadline=None)
@given(filters_st, filters_st)
def test_filters_commute_and_keep_row_order(a: Filters, b: Filters) -> None:
    ab = apply_filters(apply_filters(FRAME, a), b)
    ba = apply_filters(apply_filters(FRAME, b), a)
    assert ids(ab) == ids(ba)
    order = {rid: n for n, rid in enumerate(ids(FRAME))}
    assert [order[i] for i in ids(ab)] == sorted(order[i] for i in ids(ab))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="func_1234 adsxTO", max_size=8))
def test_plain_search_is_case_insensitive_and_equals_escaped_regex(q: str) -> None:
    plain = ids(apply_filters(FRAME, Filters(search=q)))
    assert plain == ids(apply_filters(FRAME, Filters(search=q.upper())))
    assert plain == ids(apply_filters(FRAME, Filters(search=re.escape(q), regex=True)))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="func_12 ads", max_size=5), st.text(alphabet="func_12 ads", max_size=3))
def test_longer_plain_query_never_matches_more(q: str, more: str) -> None:
    assert set(ids(apply_filters(FRAME, Filters(search=q + more)))) <= set(
        ids(apply_filters(FRAME, Filters(search=q)))
    )


def test_search_covers_name_path_signature_and_doc() -> None:
    assert ids(apply_filters(FRAME, Filters(search="FUNC_42"))) == [RECORDS[42]["id"]]
    assert len(ids(apply_filters(FRAME, Filters(search="src/mod_3.rs")))) == len(
        [r for r in RECORDS if r["path"] == "src/mod_3.rs"]
    )
    assert ids(apply_filters(FRAME, Filters(search="[/]"))) == [RECORDS[1]["id"]]
    # Signatures: only they hold the parameter list.
    assert ids(apply_filters(FRAME, Filters(search="fn func_42(x: u32)"))) == [RECORDS[42]["id"]]
    assert ids(apply_filters(FRAME, Filters(search=r"^func_4\d$", regex=True))) == [
        r["id"] for r in RECORDS if re.fullmatch(r"func_4\d", r["name"])
    ]


@pytest.mark.parametrize("pattern", ["(", "[a-", "func_(?P<x", "*"])
def test_invalid_regex_raises_search_error_with_reason(pattern: str) -> None:
    with pytest.raises(SearchError, match="invalid regex") as info:
        apply_filters(FRAME, Filters(search=pattern, regex=True))
    assert isinstance(info.value, BadInputError)
    # The same text as a plain search is fine.
    apply_filters(FRAME, Filters(search=pattern))


def test_check_filter_lists_every_record_a_check_names() -> None:
    syntax = apply_filters(FRAME, Filters(check="syntax.signatures_parse"))
    assert ids(syntax) == [r["id"] for r in RECORDS[2:5]]
    anyfail = apply_filters(FRAME, Filters(check=ANY_FAILED))
    assert ids(anyfail) == [r["id"] for r in RECORDS[2:5]]  # record 3 is in both checks
    # A passed threshold check names records too: they are listed, but fail nothing.
    passed = apply_filters(FRAME, Filters(check=PASSED_NAMING))
    assert ids(passed) == [r["id"] for r in RECORDS[5:7]]
    assert ids(apply_filters(FRAME, Filters(check=ANY_NAMED))) == [r["id"] for r in RECORDS[2:7]]
    assert apply_filters(FRAME, Filters(check="integrity.ids_unique")).height == 0


def test_sort_orders_rows_and_keeps_the_dataset_order_for_ties() -> None:
    by_repo = apply_view(FRAME, Filters(), Sort("repo_name"))
    repos = by_repo.get_column("repo_name").to_list()
    assert repos == sorted(repos)
    order = {rid: n for n, rid in enumerate(ids(FRAME))}
    for repo in set(repos):  # ties keep the dataset's order
        mine = [order[i] for i in ids(by_repo.filter(pl.col("repo_name") == repo))]
        assert mine == sorted(mine)
    down = apply_view(FRAME, Filters(), Sort("repo_name", descending=True))
    assert down.get_column("repo_name").to_list() == sorted(repos, reverse=True)
    # Path:line sorts by path, then by line as a number (not as text: 9 before 10).
    loc = apply_view(FRAME, Filters(search="mod_3.rs"), Sort("location"))
    lines = loc.get_column("start_line").to_list()
    assert lines == sorted(lines) and len(lines) > 2
    assert apply_view(FRAME, Filters(), Sort()).equals(FRAME)


def test_sort_toggles_ascending_descending_off() -> None:
    s = Sort().toggled("flags")
    assert s == Sort("flags")
    assert s.toggled("flags") == Sort("flags", True)
    assert s.toggled("flags").toggled("flags") == Sort()
    assert Sort("flags", True).toggled("repo_name") == Sort("repo_name")


def test_parts_and_only() -> None:
    f = Filters(repo="clap-rs/clap", search="x", regex=True, is_test=False)
    assert {p for p in f.parts()} == {
        Filters(repo="clap-rs/clap"),
        Filters(search="x", regex=True),
        Filters(is_test=False),
    }
    assert Filters().parts() == []
    assert apply_filters(FRAME, Filters()).equals(FRAME)


def test_choices_are_sorted_distinct_values() -> None:
    assert choices(FRAME, "repo") == sorted(REPOS)
    assert choices(FRAME, "vis") == ["-", "pub", "pub(crate)"]
    assert choices(FRAME.clear(), "repo") == []


def test_prepared_columns() -> None:
    row = FRAME.row(1, named=True)
    assert row["summary"] == MARKUP_DOC.split("\n\n")[0]
    assert row["location"] == f"{RECORDS[1]['path']}:{RECORDS[1]['start_line']}"
    flags = dict(zip(ids(FRAME), FRAME.get_column("flags").to_list(), strict=True))
    assert flags[RECORDS[0]["id"]] == "ETMUA"  # 0 is a multiple of 4, 9, 11, 13 and 5
    assert flags[RECORDS[3]["id"]] == "!"
    assert flags[RECORDS[7]["id"]] == ""


def test_summary_counts() -> None:
    s = summarise(FRAME)
    assert sum(n for _, n in s.per_repo) == len(RECORDS)
    assert dict(s.per_repo) == {r: 20 for r in REPOS}
    assert [k for k, _ in s.per_split] == list(SPLITS)
    assert sum(n for _, n in s.per_split) == len(RECORDS)
    assert sum(n for _, n in s.doc_lengths) == s.documented == len(RECORDS)
    assert s.per_kind == sorted(s.per_kind, key=lambda kv: (-kv[1], kv[0]))


# -- loading ----------------------------------------------------------------------------------


def test_load_corpus_reads_records_stats_and_report(tmp_path: Path) -> None:
    corpus = load_corpus(make_tui_dataset(tmp_path, 30))
    records = varied_records(30)
    assert corpus.frame.height == 30
    assert corpus.name == "demo"
    assert corpus.falsification is not None and corpus.falsification.score == 92
    assert corpus.falsification.verdict == "WARN"
    assert [c.id for c in corpus.falsification.failed] == list(FAILED_CHECKS)
    rec = corpus.record(records[3]["id"])
    assert rec is not None
    assert rec["failed_checks"] == list(FAILED_CHECKS)
    assert rec["named_checks"] == list(FAILED_CHECKS)
    passed = corpus.record(records[5]["id"])
    assert passed is not None
    assert passed["failed_checks"] == [] and passed["named_checks"] == [PASSED_NAMING]
    assert corpus.record("0" * 64) is None


def test_load_without_report(tmp_path: Path) -> None:
    corpus = load_corpus(make_tui_dataset(tmp_path, 5, report=False))
    assert corpus.falsification is None
    assert corpus.frame.get_column("failed_checks").list.len().sum() == 0


def test_missing_dataset_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no dataset here"):
        load_corpus(tmp_path / "empty")


def test_corrupt_parquet_is_bad_input(tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 10)
    (ds / "data" / "train-00000-of-00001.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(BadInputError, match="not a readable parquet file"):
        load_corpus(ds)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"checks": [{"points": 1}]}', r"checks\[0\]: missing key 'id'"),
        # Regression: a check without `passed` was shown as passing beside "verdict: FAIL".
        (
            '{"checks": [{"id": "x.y", "category": "x", "points": 1, "awarded": 0, "severity": '
            '"normal", "hypothesis": "h", "evidence": "e"}]}',
            "missing key 'passed'",
        ),
        (
            '{"checks": [{"id": "x.y", "category": "x", "points": "1", "awarded": 0, "passed": '
            'false, "severity": "normal", "hypothesis": "h", "evidence": "e"}]}',
            "'points' must be int",
        ),
        ('{"checks": {}}', "'checks' must be a list"),
    ],
)
def test_corrupt_report_is_bad_input(tmp_path: Path, content: str, message: str) -> None:
    ds = make_tui_dataset(tmp_path, 5)
    (ds / FALSIFICATION_JSON).write_text(content)
    with pytest.raises(BadInputError, match=message):
        load_corpus(ds)


def test_empty_table_loads_as_empty_corpus(tmp_path: Path) -> None:
    ds = tmp_path / "empty"
    write_parquet(ds / "data" / "train-00000-of-00001.parquet", RECORD_SCHEMA.empty_table())
    assert load_corpus(ds).frame.height == 0


def test_dedent_item_shows_the_item_at_its_own_indentation() -> None:
    from corpus.text import dedent_item

    src = "pub fn new(x: u8) -> Self {\n        Self(x)\n    }"
    assert dedent_item(src) == "pub fn new(x: u8) -> Self {\n    Self(x)\n}"
    assert dedent_item("fn f() {}") == "fn f() {}"
    odd = "fn f() {\nx\n    }"
    assert dedent_item(odd) == odd  # text left of the item's column: unchanged
