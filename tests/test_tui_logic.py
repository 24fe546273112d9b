"""The TUI's plain logic, without Textual: visible control characters, cell fitting with
highlighted spans, search snippets, text bar charts, the count and hint lines, and the cheap
pre-start checks of a dataset path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from corpus.errors import BadInputError
from corpus.summary import numbers
from corpus.text import show_controls
from tests.tui_fixtures import make_tui_dataset
from tui.bars import bar, bar_rows, format_value
from tui.cells import ELLIPSIS, fit, pieces
from tui.preflight import check_dataset, check_runs_dir
from tui.query import Filters, count_line, empty_hint
from tui.search import Matcher, snippet

# -- control characters ---------------------------------------------------------------------


def test_control_characters_become_visible_symbols() -> None:
    assert show_controls("a\x1b[31mred\x1b[0m\x07") == "a␛[31mred␛[0m␇"
    assert show_controls("nul\x00 cr\r del\x7f") == "nul␀ cr␍ del␡"
    assert show_controls("csi\x9b2J") == "csi<U+009B>2J"  # a C1 control: one-byte CSI
    assert show_controls("abc\u202edcba") == "abc<U+202E>dcba"  # a bidi override
    assert show_controls("keeps\nnew lines\tand tabs") == "keeps\nnew lines\tand tabs"
    assert show_controls("one\nline", keep="") == "one␊line"
    assert show_controls("plain [bold]text[/] ü ß 漢") == "plain [bold]text[/] ü ß 漢"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_shown_text_never_holds_a_control_character(text: str) -> None:
    shown = show_controls(text, keep="")
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)


# -- cells ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab漢/:_…", max_size=30), st.integers(1, 25), st.booleans())
def test_fit_is_exactly_the_width(text: str, width: int, cut_left: bool) -> None:
    cell = fit(text, width, cut_left=cut_left)
    assert cell_len(cell.text) == width


def test_fit_cuts_right_or_left_and_moves_spans() -> None:
    assert fit("short", 8).text == "short   "
    right = fit("hello world", 6, spans=((0, 5), (6, 11)))
    assert right.text == "hello…" and right.spans == ((0, 5),)
    left = fit("src/flags/hiargs.rs:1308", 10, cut_left=True, spans=((10, 16),))
    assert left.text == ELLIPSIS + "s.rs:1308"
    # The span (hiargs) is cut away on the left but for its tail: "s".
    assert [left.text[a:b] for a, b in left.spans] == ["s"]
    middle = fit("xx[match]yy", 7, spans=((2, 9),))
    assert middle.text == "xx[mat…"
    assert [middle.text[a:b] for a, b in middle.spans] == ["[mat"]  # cut with its cell


def test_pieces_split_a_cell_into_highlighted_runs() -> None:
    cell = fit("one two one", 11, spans=((0, 3), (8, 11)))
    assert pieces(cell) == [("one", True), (" two ", False), ("one", True)]
    assert pieces(fit("none", 4)) == [("none", False)]


# -- search ---------------------------------------------------------------------------------


def test_matcher_is_case_insensitive_literal_or_regex() -> None:
    lit = Matcher.for_search("A.B", regex=False)
    assert lit is not None and lit.spans("xa.b aXb A.B") == [(1, 4), (9, 12)]
    rx = Matcher.for_search(r"^fn \w+", regex=True)
    assert rx is not None and rx.spans("pub\nFN new(x)") == [(4, 10)]
    assert Matcher.for_search("", regex=False) is None
    assert Matcher.for_search("(", regex=True) is None  # not compilable: no highlight


def test_snippet_takes_the_matching_line_of_the_first_matching_field() -> None:
    m = Matcher.for_search("hostname", regex=False)
    assert m is not None
    doc = "Returns the value.\n\nThis is only used in the hostname lookup."
    found = snippet(m, [("doc", doc), ("sig", "fn hostname()")], lead=6)
    assert found is not None and found.label == "doc"
    assert found.text == "…n the hostname lookup."
    assert [found.text[a:b] for a, b in found.spans] == ["hostname"]
    sig = snippet(m, [("doc", "nothing here"), ("sig", "fn hostname() -> String")])
    assert sig is not None and sig.label == "sig" and sig.text == "fn hostname() -> String"
    assert snippet(m, [("doc", None), ("sig", "fn x()")]) is None


# -- bars -----------------------------------------------------------------------------------


def test_every_category_gets_its_own_row_at_any_width() -> None:
    rows = [(f"owner/repo-{i}", n) for i, n in enumerate([1248, 846, 571, 173, 144, 98, 40])]
    for width in (20, 38, 60, 118):
        drawn = bar_rows(rows, width)
        assert len(drawn) == len(rows)
        for row, (_, n) in zip(drawn, rows, strict=True):
            assert row.value.strip() == f"{n:,}"
            assert cell_len(row.label) + 1 + len(row.bar) + 1 + len(row.value) <= max(width, 8)
        lengths = [len(r.bar.rstrip()) for r in drawn]
        assert lengths == sorted(lengths, reverse=True)  # bars in the order of their values


def test_bars_scale_and_never_hide_a_nonzero_value() -> None:
    assert bar(10, 10, 5) == "█████"
    assert bar(5, 10, 4) == "██  "
    assert bar(0, 10, 4) == "    "
    assert bar(1, 10_000, 4).strip() == "▏"  # tiny but not zero: still drawn
    assert format_value(1210) == "1,210" and format_value(0.25) == "0.25"
    assert format_value(1234.5) == "1,234.5" and format_value(2.0) == "2"


def test_numbers_flattens_a_json_section() -> None:
    tokens = {"prompt": {"mean": 120.5, "p95": 400}, "total": 9000, "note": "x", "ok": True}
    assert numbers(tokens) == [("prompt.mean", 120.5), ("prompt.p95", 400), ("total", 9000)]


# -- count line and empty hint --------------------------------------------------------------


def test_count_line_grammar() -> None:
    assert count_line(3120, 3120, Filters()) == "3,120 records"
    assert count_line(1, 3120, Filters(repo="a/b")) == "1 record of 3,120"
    assert count_line(1, 3120, Filters(search="x")) == "1 match of 3,120"
    assert count_line(11, 40, Filters(search="x")) == "11 matches of 40"
    assert count_line(40, 40, Filters(search="x")) == "40 matches of 40"


def test_empty_hint_says_why_and_which_key_helps() -> None:
    hint = empty_hint(Filters(search="zzz"))
    assert "'zzz'" in hint and "signature" in hint and "/ edits the search" in hint
    both = empty_hint(Filters(search="zzz", regex=True, repo="a/b", split="test"))
    assert "regex" in both and "2 filters set" in both and "ctrl+r" in both and "x clears" in both
    assert empty_hint(Filters(repo="a/b")) == "No record passes these 1 filter. x clears them."


# -- pre-start checks -----------------------------------------------------------------------


def test_preflight_accepts_a_dataset_and_names_what_is_wrong(tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 5)
    check_dataset(ds)
    check_dataset(next((ds / "data").glob("*.parquet")))
    with pytest.raises(BadInputError, match="no such file"):
        check_dataset(tmp_path / "nope")
    with pytest.raises(BadInputError, match="no dataset here"):
        check_dataset(tmp_path)
    (ds / "falsification.json").write_text("[1, 2]")
    with pytest.raises(BadInputError, match="expected a JSON object"):
        check_dataset(ds)
    (ds / "falsification.json").write_text("{broken")
    with pytest.raises(BadInputError, match="not readable JSON"):
        check_dataset(ds)
    (ds / "falsification.json").write_text(json.dumps({}))
    check_dataset(ds)
    next((ds / "data").glob("*.parquet")).write_bytes(b"garbage, not parquet")
    with pytest.raises(BadInputError, match="not a readable parquet file"):
        check_dataset(ds)


def test_preflight_of_the_runs_folder(tmp_path: Path) -> None:
    check_runs_dir(tmp_path)
    with pytest.raises(BadInputError, match="no such directory"):
        check_runs_dir(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(BadInputError, match="not a directory"):
        check_runs_dir(tmp_path / "f")


# -- the header line ------------------------------------------------------------------------


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_header_keeps_screen_score_and_verdict_at_any_width(tmp_path: Path, width: int) -> None:
    from tui.data import load_corpus
    from tui.widgets.header import header_text

    corpus = load_corpus(make_tui_dataset(tmp_path, 5))
    corpus.path = corpus.path.with_name("a-dataset-with-a-rather-long-folder-name")
    line = header_text(corpus, "Falsification", width=width).plain
    assert cell_len(line) <= width
    assert "Falsification" in line and "92/100 WARN" in line, line
    if width >= 200:  # room for everything
        assert "5 records" in line and "extractor 1.0.0" in line and corpus.name in line
    loading = header_text(None, "Records", width=width).plain
    assert "Records" in loading and "loading…" in loading and cell_len(loading) <= width


# -- rows of the detail view: every wrap marked ------------------------------------------------


@settings(max_examples=200)
@given(st.text(alphabet="ab 中", max_size=60), st.integers(2, 20))
def test_chop_keeps_every_character_and_fits_the_width(line: str, width: int) -> None:
    from rich.text import Text

    from tui.wrapped import chop

    rows = [r.plain for r in chop(Text(line), width)]
    assert "".join(rows) == line  # nothing dropped, not even the space at a break
    assert all(cell_len(r) <= width for r in rows) and all(rows[1:])


def test_marked_lines_tell_a_wrap_from_a_line_break() -> None:
    import io

    from rich.console import Console
    from rich.text import Text

    from tui.wrapped import CONTINUED, MarkedLines, marked_code

    def draw(renderable: object, width: int) -> list[str]:
        console = Console(width=width, file=io.StringIO(), color_system=None)
        with console.capture() as cap:
            console.print(renderable)
        return [row.rstrip() for row in cap.get().split("\n")[:-1]]

    doc = "Short line.\nA line much too long for twenty cells.\n\nEnd."
    rows = draw(MarkedLines(Text(doc)), 22)
    assert rows == ["  Short line.", "  A line much too", f"{CONTINUED} long for twenty", f"{CONTINUED} cells.", "", "  End."]  # fmt: skip
    code = "fn f() {\n    let value = compute_something_long(1);\n}"
    rows = draw(marked_code(code, "monokai", first_number=9), 30)
    assert rows[0].startswith(" 9  fn f() {") and rows[-1] == "11  }"
    # Line 10 goes on in the next row: no number there, a marker.
    assert rows[1:3] == ["10      let value =", f" {CONTINUED}  compute_something_long(1);"]
