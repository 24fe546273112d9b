"""The TUI as an auditor uses it (Pilot): the exact doc, next / previous record, search hits,
sort, narrow terminals, checks that name records whether they passed or failed, charts, and
control characters drawn as symbols everywhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.style import Style
from textual.pilot import Pilot
from textual.widgets import DataTable, Markdown, OptionList, Select, Static
from typer.testing import CliRunner

from corpus.cli import app as cli_app
from corpus.errors import ExitCode
from corpus.prompt import doc_as_comment
from tests.records_factory import make_dataset_dir
from tests.tui_fixtures import (
    PASSED_NAMING,
    RUSTDOC_DOC,
    make_tui_dataset,
    run_async,
    screen_lines,
    shown,
    varied_record,
    varied_records,
)
from tui.app import CorpusApp
from tui.screens.detail import DetailScreen
from tui.screens.falsification import FalsificationScreen
from tui.screens.records import RecordsScreen
from tui.widgets.record_table import RecordTable

SIZE = (120, 34)
N = 40
RECORDS = varied_records(N)


async def settle(pilot: Pilot) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def table(app: CorpusApp) -> RecordTable:
    return app.records_screen.query_one(RecordTable)


def count_text(app: CorpusApp) -> str:
    return str(app.records_screen.query_one("#match-count", Static).render())


async def open_by_search(pilot: Pilot, text: str) -> DetailScreen:
    await pilot.press("slash", *text, "enter")
    await settle(pilot)
    assert table(pilot.app).row_count == 1, text  # type: ignore[arg-type]
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, DetailScreen)
    return pilot.app.screen


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_tui_dataset(tmp_path, N)


# -- the detail view ------------------------------------------------------------------------


@run_async
async def test_detail_shows_the_exact_doc_with_comment_and_markdown_toggles(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        screen = await open_by_search(pilot, "fn func_6(")
        assert screen.record["doc"] == RUSTDOC_DOC
        doc = screen.query_one("#doc", Static)
        assert str(doc.content) == RUSTDOC_DOC  # exactly the training target
        shot = shown(app)
        for literal in ("# Examples", "```rust", "[`help_heading`]"):
            assert literal in shot
        await pilot.press("t")  # the /// lines the model is trained to write
        await pilot.pause()
        assert str(screen.query_one("#doc", Static).content) == doc_as_comment(RUSTDOC_DOC)
        assert "/// # Examples" in shown(app) and "as the model is trained" in shown(app)
        await pilot.press("t")  # again: back to the exact text
        await pilot.pause()
        assert str(screen.query_one("#doc", Static).content) == RUSTDOC_DOC
        await pilot.press("m")  # rendered: the heading loses its #, the link its backticks
        await pilot.pause()
        assert isinstance(screen.query_one("#doc"), Markdown)
        shot = shown(app)
        assert "# Examples" not in shot and "Examples" in shot and "[`help_heading`]" not in shot
        await pilot.press("m")
        await pilot.pause()
        assert str(screen.query_one("#doc", Static).content) == RUSTDOC_DOC


#: A doc line and a source line each far wider than 80 columns.
LONG_DOC = "Short first line.\n" + " ".join(f"word{i}" for i in range(30)) + "\n\nEnd."
LONG_SOURCE = "pub fn func_0(x: u32) -> u32 {\n    " + " + ".join(["x"] * 40) + "\n}"


@run_async
async def test_at_80_columns_every_wrap_of_doc_and_source_is_marked(tmp_path: Path) -> None:
    records = varied_records(5)
    records[0] = varied_record(0, doc=LONG_DOC, source=LONG_SOURCE)
    ds = make_dataset_dir(tmp_path / "demo", records)
    app = CorpusApp(ds, cursor_blink=False)
    async with app.run_test(size=(80, 60)) as pilot:
        await settle(pilot)
        screen = await open_by_search(pilot, "fn func_0(")
        lines = screen_lines(app)
        for widget, text, gutter in (("#doc", LONG_DOC, 2), ("#source", LONG_SOURCE, 4)):
            region = screen.query_one(widget).region
            rows = lines[region.y : region.bottom]
            # Each row: gutter (a line number, blanks, or ↪ where a line goes on), then text.
            marks = [r[region.x : region.x + gutter] for r in rows]
            assert sum("↪" in m for m in marks) >= 2, "\n".join(rows)
            body = [r[region.x + gutter :].rstrip() for r in rows]
            pairs = zip(marks, body, strict=True)
            joined = "".join(("" if "↪" in m else "\n") + b for m, b in pairs)
            # Rows joined at the marks give the lines back (each row's end space trimmed here).
            assert joined.lstrip("\n").replace(" ", "") == text.replace(" ", ""), joined


@run_async
async def test_detail_starts_with_provenance_and_checks_above_the_source(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_by_search(pilot, "fn func_3(")
        ids = [w.id for w in screen.query("#detail > *") if w.id]
        assert ids.index("provenance") < ids.index("named-by") < ids.index("source")
        shot = shown(app)  # the first screenful, unscrolled
        assert "Permalink" in shot and "BurntSushi/ripgrep at " + "a" * 40 in shot
        assert screen.record["permalink"] in shot.replace("\n", "").replace(" ", "")  # whole
        assert "syntax.signatures_parse" in shot


@run_async
async def test_next_and_previous_follow_the_table_as_sorted(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s", "S")  # by repo, descending
        await settle(pilot)
        order = table(app).ids
        assert table(app).sort.column == "repo_name" and table(app).sort.descending
        await pilot.press("g", "enter")  # the first row of the sorted table
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.record["id"] == order[0]
        await pilot.press("n", "n", "]")
        await pilot.pause()
        assert app.screen.record["id"] == order[3]  # type: ignore[attr-defined]
        await pilot.press("p", "[")
        await pilot.pause()
        assert app.screen.record["id"] == order[1]  # type: ignore[attr-defined]
        await pilot.press("p", "p")  # the first: a notice, the record stays
        await pilot.pause()
        assert app.screen.record["id"] == order[0]  # type: ignore[attr-defined]
        assert "first record of the list" in shown(app)
        await pilot.press("n", "escape")
        await pilot.pause()
        assert isinstance(app.screen, RecordsScreen)
        assert table(app).row_id() == order[1]  # the table's cursor followed


# -- search and sort ------------------------------------------------------------------------


def match_pieces(t: RecordTable, line: int) -> list[str]:
    """The texts the table draws with the match style on screen line ``line``."""
    match = t.get_component_rich_style("record-table--match", partial=True)
    out = []
    for seg in t.render_line(line):
        style = seg.style or Style()
        if match.bgcolor is not None and style.bgcolor == match.bgcolor:
            out.append(seg.text)
    return out


@run_async
async def test_search_highlights_matches_and_shows_where_a_hidden_one_is(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"FUNC_12")
        await settle(pilot)
        t = table(app)
        assert count_text(app) == f"1 match of {N}"
        assert match_pieces(t, 1) == ["func_12"]  # in the qualified name, case-insensitively
        await pilot.press("ctrl+u", *"longer text about func_2")  # only in the doc's 2nd paragraph
        await settle(pilot)
        assert t.row_count == 11  # func_2 and func_20..29
        assert "doc: Longer text about fu…" in shown(app)  # the hit, cut to its cell
        assert match_pieces(t, 1) == ["Longer text about fu"]
        await pilot.press("ctrl+u", *"(x: u32)")  # only in signatures
        await settle(pilot)
        assert t.row_count == N and "sig: " in shown(app)
        assert count_text(app) == f"{N} matches of {N}"


@run_async
async def test_an_empty_result_says_why_and_what_to_press(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.records_screen.query_one("#f-split", Select).value = "test"
        await pilot.press("slash", *"zzz-nothing")
        await settle(pilot)
        assert count_text(app) == f"0 matches of {N}"
        hint = table(app).empty_hint
        assert "'zzz-nothing'" in hint and "1 filter set" in hint and "x clears" in hint
        assert "No record matches the text" in shown(app)
        await pilot.press("escape", "x")
        await settle(pilot)
        assert table(app).row_count == N and table(app).empty_hint == ""


@run_async
async def test_sort_by_key_and_by_clicking_a_header(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = table(app)
        await pilot.press("s")
        await settle(pilot)
        repos = t._frame.get_column("repo_name").to_list()  # type: ignore[union-attr]
        assert repos == sorted(repos) and "Repo ▲" in shown(app)
        await pilot.press("S")
        await settle(pilot)
        assert "Repo ▼" in shown(app)
        x = 1 + 8 + 1 + 24 + 1  # past Repo and Path:line: the Qualified name header
        await pilot.click(RecordTable, offset=(x + 2, 0))
        await settle(pilot)
        names = t._frame.get_column("qualified_path").to_list()  # type: ignore[union-attr]
        assert t.sort.column == "qualified_path" and names == sorted(names)
        for _ in range(5):  # s cycles through the other columns, then the dataset's order
            await pilot.press("s")
        await settle(pilot)
        assert t.sort.column is None
        assert t.ids == [r["id"] for r in sorted(RECORDS, key=lambda r: (r["repo"], r["path"],
                                                                          r["start_byte"]))]  # fmt: skip


@run_async
async def test_at_80_columns_the_filters_start_hidden_and_the_summary_shows(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panel = app.records_screen.query_one("#filters")
        assert panel.has_class("hidden")
        shot = shown(app)
        assert "Doc summary" in shot and "Flags" in shot
        first = next(r for r in RECORDS if r["id"] == table(app).row_id(0))
        assert first["doc_summary"][:12] in shot
        await pilot.press("F")
        await pilot.pause()
        assert not panel.has_class("hidden")
        await pilot.resize_terminal(130, 30)  # the user chose: the width no longer decides
        await pilot.press("F")
        await pilot.pause()
        assert panel.has_class("hidden")


# -- falsification drill-down ---------------------------------------------------------------


async def highlight_check(pilot: Pilot, check_id: str) -> None:
    checks = pilot.app.screen.query_one("#checks", DataTable)
    for _ in range(checks.get_row_index(check_id)):
        await pilot.press("down")
    await pilot.pause()


@run_async
async def test_a_passed_check_with_offenders_drills_down_without_contradiction(
    dataset: Path,
) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, FalsificationScreen)
        await highlight_check(pilot, PASSED_NAMING)
        detail = str(app.screen.query_one("#check-detail", Static).render())
        assert PASSED_NAMING in detail and "passed" in detail
        assert "␛[2J" in detail and "\x1b" not in detail  # the evidence's ESC, made visible
        title = str(app.screen.query_one("#offenders-title", Static).render())
        assert title.startswith("2 named, within its threshold")
        await pilot.press("enter", "enter")  # to the list, open the first
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.record["id"] == RECORDS[5]["id"]
        named = str(app.screen.query_one("#named-by", Static).render())
        assert f"{PASSED_NAMING}  named by (passed)" in named and "No check" not in named
        await pilot.press("n")  # the next offender of the list it came from
        await pilot.pause()
        assert app.screen.record["id"] == RECORDS[6]["id"]
        await pilot.press("escape")
        await pilot.pause()
        offenders = app.screen.query_one("#offenders", OptionList)
        assert offenders.option_count == 2 and offenders.highlighted == 1
        assert RECORDS[5]["qualified_path"] in shown(app)  # drawn, not only held
        await pilot.press("r")  # a passed check's records, on the records screen
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        assert app.records_screen.filters.check == PASSED_NAMING
        assert sorted(table(app).ids) == sorted(r["id"] for r in RECORDS[5:7])
        select = app.records_screen.query_one("#f-check", Select)
        labels = [str(p) for p, _ in select._options]
        assert f"named by {PASSED_NAMING} (passed, 2)" in labels
        assert "fails syntax.signatures_parse (3)" in labels and "named by any check" in labels


@run_async
async def test_r_on_a_check_naming_nothing_says_so(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        await highlight_check(pilot, "integrity.ids_unique")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, FalsificationScreen)
        assert "integrity.ids_unique names no records" in shown(app)


@run_async
async def test_tab_into_the_offenders_highlights_one_and_enter_opens_it(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("tab")  # from the checks (semantics.arguments_exist) to its records
        await pilot.pause()
        offenders = app.screen.query_one("#offenders", OptionList)
        assert app.focused is offenders and offenders.highlighted == 0
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.record["id"] == RECORDS[3]["id"]
        await pilot.press("escape")
        await pilot.pause()
        offenders = app.screen.query_one("#offenders", OptionList)
        await pilot.press("shift+tab", "tab")  # away and back: the highlight stays
        await pilot.pause()
        assert app.focused is offenders and offenders.highlighted == 0
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)


@run_async
async def test_at_80x24_the_header_keeps_the_verdict_and_the_offenders_have_room(
    dataset: Path,
) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "score 92/100 WARN" in screen_lines(app)[0]
        await pilot.press("3")
        await pilot.pause()
        await highlight_check(pilot, "syntax.signatures_parse")  # names records 2, 3 and 4
        lines = screen_lines(app)
        assert "Falsification" in lines[0] and "score 92/100 WARN" in lines[0]
        for i in (2, 3, 4):  # each offender on a line of its own, its location below
            at = [n for n, line in enumerate(lines) if f"::func_{i} " in line]
            assert at and f"src/mod_{i}.rs:1{i}" in lines[at[0] + 1], "\n".join(lines)


@run_async
async def test_a_record_no_check_names_says_exactly_that(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        screen = await open_by_search(pilot, "fn func_9(")
        named = str(screen.query_one("#named-by", Static).render())
        assert named.startswith("No check names this record.")
        assert "Passes every check" not in named


# -- charts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_stats_draw_every_category_with_its_count(dataset: Path, size: tuple[int, int]) -> None:
    @run_async
    async def run() -> None:
        app = CorpusApp(dataset, cursor_blink=False)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await pilot.pause()
            shot = shown(app)
            for repo in ("BurntSushi/ripgrep", "clap-rs/clap", "tokio-rs/tokio"):
                count = sum(1 for r in RECORDS if r["repo"] == repo)
                assert re.search(rf"{repo} +[█▏▎▍▌▋▊▉]+ +{count} ", shot), repo
            assert not re.search(r"\d\.\d", shot.split("\n", 1)[1])  # counts, not ticks like 605.2
            await pilot.press("end")  # the last charts: stats.json's filter counts
            await pilot.pause()
            assert re.search(r"undocumented +█+ +120 ", shown(app))

    run()


# -- control characters, start-up ----------------------------------------------------------


@run_async
async def test_control_characters_are_drawn_as_symbols_everywhere(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"paints", "enter")
        await settle(pilot)
        assert "Paints ␛[31mred␛[0m text" in shown(app)  # the table
        await pilot.press("slash", "ctrl+u", *"terminal")  # a hit beyond the summary's width
        await settle(pilot)
        assert "…n the terminal." in shown(app)  # the summary, shown around its match
        await pilot.press("enter", "enter")
        await pilot.pause()
        for view in ("", "t", "m"):  # raw, /// and Markdown
            if view:
                await pilot.press(view)
                await pilot.pause()
            shot = shown(app)
            assert "␛[31mred␛[0m" in shot and "␇" in shot and "\x1b" not in shot, view


def test_the_first_frame_waits_for_no_heavy_import() -> None:
    code = (
        "import sys, tui.app; "
        "bad = [m for m in ('polars', 'pyarrow', 'falsification', 'textual_plotext') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_refuses_a_dataset_it_cannot_open_before_the_app_starts(tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 5)
    (ds / "falsification.json").write_text("[]")
    result = CliRunner().invoke(cli_app, ["tui", str(ds)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "falsification.json: expected a JSON object" in " ".join(result.output.split())
    (ds / "falsification.json").unlink()
    next((ds / "data").glob("*.parquet")).write_bytes(b"garbage")
    result = CliRunner().invoke(cli_app, ["inspect", str(ds)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "not a readable parquet file" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli_app, ["tui", str(tmp_path)])
    assert result.exit_code == ExitCode.BAD_INPUT and "no dataset here" in result.output
