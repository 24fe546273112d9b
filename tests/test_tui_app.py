"""The TUI driven through Textual's Pilot: navigation, filters, search, detail, drill, copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, Select, Static
from typer.testing import CliRunner

from corpus.cli import app as cli_app
from corpus.errors import ExitCode
from corpus.schema import RECORD_SCHEMA
from corpus.store import write_parquet
from tests.tui_fixtures import MARKUP_DOC, make_tui_dataset, run_async, screen_text, varied_records
from tui.app import CorpusApp
from tui.screens.detail import DetailScreen
from tui.screens.falsification import FalsificationScreen
from tui.screens.help import HelpScreen
from tui.screens.message import MessageScreen
from tui.screens.records import RecordsScreen
from tui.screens.stats import BarChart, StatsScreen
from tui.widgets.record_table import RecordTable

SIZE = (120, 34)
N = 40


async def settle(pilot: Pilot) -> None:
    """Wait until loading / filtering workers are done and their messages handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def table(app: CorpusApp) -> RecordTable:
    return app.records_screen.query_one(RecordTable)


def count_text(app: CorpusApp) -> str:
    return str(app.records_screen.query_one("#match-count", Static).render())


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_tui_dataset(tmp_path, N)


@run_async
async def test_loads_every_row_with_header(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        assert table(app).row_count == N
        header = str(app.screen.query_one("CorpusHeader").render())
        assert "demo" in header and f"{N} records" in header and "92/100 WARN" in header
        assert count_text(app) == f"{N} records"


@run_async
async def test_keyboard_navigation(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = table(app)
        assert t.has_focus and t.cursor_row == 0
        await pilot.press("j", "j", "down")
        assert t.cursor_row == 3
        await pilot.press("k", "up")
        assert t.cursor_row == 1
        await pilot.press("G")
        assert t.cursor_row == N - 1
        assert t.scroll_offset.y > 0  # the cursor row was scrolled into view
        await pilot.press("g")
        assert t.cursor_row == 0 and t.scroll_offset.y == 0
        await pilot.press("pagedown")
        assert t.cursor_row > 10
        await pilot.press("up", "up", "up")  # never below 0 / past the end either
        await pilot.press("home", "up")
        assert t.cursor_row == 0


@run_async
async def test_mouse_click_moves_cursor_and_double_click_opens(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = table(app)
        await pilot.click(RecordTable, offset=(5, 3))  # line 0 is the header
        assert t.cursor_row == 2
        expected = t.row_id()
        await pilot.double_click(RecordTable, offset=(5, 3))
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen) and app.screen.record["id"] == expected


@run_async
async def test_search_is_incremental_and_counts_matches(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.focused is app.records_screen.query_one("#search", Input)
        await pilot.press("f", "u", "n", "c", "_", "3")
        await settle(pilot)
        names = {r["name"] for r in varied_records(N) if "func_3" in r["name"]}
        assert table(app).row_count == len(names) == 11  # func_3, func_30..func_39
        assert count_text(app) == f"11 matches of {N}"
        await pilot.press("5")
        await settle(pilot)
        assert table(app).row_count == 1
        await pilot.press("enter")  # back to the table, then open
        assert table(app).has_focus
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.record["name"] == "func_35"


@run_async
async def test_invalid_regex_shows_message_and_keeps_rows(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r", "slash", "f", "u", "n", "c", "_", "(")
        await settle(pilot)
        assert "invalid regex" in count_text(app) and "unclosed group" in count_text(app)
        assert app.records_screen.query_one("#match-count").has_class("error")
        assert table(app).row_count == N  # the last good result stays
        await pilot.press("backspace", "(", "1", "|", "2", ")", "$")
        await settle(pilot)
        # Multi-line mode: $ ends the name line, so only func_1 and func_2 match.
        assert table(app).row_count == 2
        assert not app.records_screen.query_one("#match-count").has_class("error")


@run_async
async def test_filters_combine_through_the_selects(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        records = varied_records(N)
        # Keyboard: open the repo select, take its second option (clap-rs/clap).
        await pilot.press("ctrl+l")
        assert app.focused is app.records_screen.query_one("#f-repo", Select)
        await pilot.press("enter", "down", "down", "enter")
        await settle(pilot)
        assert app.records_screen.filters.repo == "clap-rs/clap"
        clap = [r for r in records if r["repo"] == "clap-rs/clap"]
        assert table(app).row_count == len(clap)
        app.records_screen.query_one("#f-has_examples", Select).value = True
        await settle(pilot)
        both = [r for r in clap if "Examples" in r["doc_sections"]]
        assert table(app).row_count == len(both) > 0
        await pilot.press("escape", "x")
        await settle(pilot)
        assert table(app).row_count == N
        assert app.records_screen.query_one("#f-repo", Select).is_blank()


@run_async
async def test_detail_shows_markup_literally_and_copies_permalink(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Closes [bold]", "enter")
        await settle(pilot)
        assert table(app).row_count == 1
        # The table row shows the summary's brackets as typed.
        assert "Closes [bold]every[/" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.record["doc"] == MARKUP_DOC
        shot = screen_text(app)
        for literal in ("[bold]every[/bold]", "[/]", "[link=https://evil.example]links[/link]"):
            assert literal in shot
        await pilot.press("m")  # rendered as Markdown: console markup is still literal
        await pilot.pause()
        assert isinstance(screen.query_one("#doc"), Markdown)
        assert "[bold]every[/bold]" in screen_text(app)
        await pilot.press("c")
        await pilot.pause(0.2)
        assert app.clipboard == screen.record["permalink"]
        assert screen.record["permalink"].startswith("https://github.com/clap-rs/clap/blob/")
        assert "Permalink copied" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, RecordsScreen)


@run_async
async def test_drill_from_failed_check_to_record(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    records = varied_records(N)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, FalsificationScreen)
        # Failed checks come first; the first listed is semantics.arguments_exist.
        await pilot.press("down")  # -> syntax.signatures_parse
        await pilot.pause()
        detail = str(app.screen.query_one("#check-detail", Static).render())
        assert "syntax.signatures_parse" in detail and "FAILED" in detail
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.record["id"] == records[3]["id"]
        assert "syntax.signatures_parse" in str(app.screen.query_one("#named-by", Static).render())
        await pilot.press("escape", "r")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        assert app.records_screen.filters.check == "syntax.signatures_parse"
        assert sorted(table(app)._frame.get_column("id").to_list()) == sorted(
            r["id"] for r in records[2:5]
        )


@run_async
async def test_offending_id_missing_from_dataset_is_disabled(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert "(not in this dataset)" in screen_text(app)
        offenders = app.screen.query_one("#offenders")
        assert offenders.option_count == 2
        assert offenders.get_option_at_index(1).disabled


@run_async
async def test_stats_screen_and_help(dataset: Path) -> None:
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, StatsScreen)
        assert len(app.screen.query(BarChart)) == 6
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "This help" in screen_text(app) and "Next / previous pane" in screen_text(app)
        await pilot.press("escape", "1")
        assert isinstance(app.screen, RecordsScreen)


@run_async
async def test_no_report_is_explained(tmp_path: Path) -> None:
    app = CorpusApp(make_tui_dataset(tmp_path, 5, report=False), cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "not falsified" in str(app.screen.query_one("CorpusHeader").render())
        await pilot.press("3")
        await pilot.pause()
        assert "No falsification.json" in str(app.screen.query_one("#no-report").render())


@run_async
async def test_corrupt_file_shows_message_and_quits_with_bad_input(tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 5)
    (ds / "data" / "train-00000-of-00001.parquet").write_bytes(b"garbage")
    app = CorpusApp(ds, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen)
        body = str(app.screen.query_one("#message-body").render())
        assert "not a readable parquet file" in body and "train-00000" in body
        assert "Traceback" not in screen_text(app)
        await pilot.press("2")  # screens need data: a notice, no crash
        await pilot.press("q")
    assert app.return_code == ExitCode.BAD_INPUT


@run_async
async def test_empty_corpus_shows_message(tmp_path: Path) -> None:
    ds = tmp_path / "empty"
    write_parquet(ds / "data" / "train-00000-of-00001.parquet", RECORD_SCHEMA.empty_table())
    app = CorpusApp(ds, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen)
        assert "no records" in str(app.screen.query_one("#message-body").render())
        await pilot.press("q")
    assert app.return_code == ExitCode.BAD_INPUT


def test_cli_missing_dataset_is_bad_input(tmp_path: Path) -> None:
    for command in ("tui", "inspect"):
        result = CliRunner().invoke(cli_app, [command, str(tmp_path / "nope")])
        assert result.exit_code == ExitCode.BAD_INPUT
        assert "no such file or directory" in result.output
        assert "Traceback" not in result.output
