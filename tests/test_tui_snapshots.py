"""SVG snapshots of every screen (pytest-textual-snapshot). Update: --snapshot-update.

Stable by construction: fixed terminal size, a fixed synthetic dataset in a folder always
named `demo` (the header shows the folder name, never the path), no blinking cursor, the
syntax theme fixed, no durations shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from corpus.schema import RECORD_SCHEMA
from corpus.store import write_parquet
from tests.runs_fixtures import make_runs
from tests.tui_fixtures import make_tui_dataset
from tui.app import CorpusApp

SIZE = (130, 38)


async def loaded(pilot: Pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def after(*keys: str) -> Any:
    """A run_before that waits for the load, presses ``keys`` and waits for filter workers."""

    async def run(pilot: Pilot) -> None:
        await loaded(pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run


@pytest.fixture
def app(tmp_path: Path) -> CorpusApp:
    return CorpusApp(make_tui_dataset(tmp_path, 40), cursor_blink=False)


def test_records_screen(snap_compare: Any, app: CorpusApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=after("j", "j"))


def test_records_search_and_filter(snap_compare: Any, app: CorpusApp) -> None:
    async def run(pilot: Pilot) -> None:
        await loaded(pilot)
        app.records_screen.query_one("#f-split").value = "train"
        await after("slash", *"mod_1", "enter")(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_records_invalid_regex(snap_compare: Any, app: CorpusApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=after("ctrl+r", "slash", "(", "["))


def test_detail_screen_with_markup_doc(snap_compare: Any, app: CorpusApp) -> None:
    run = after("F", "slash", *"evil.example", "enter", "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_falsification_screen(snap_compare: Any, app: CorpusApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=after("3", "down", "enter"))


def test_help_screen(snap_compare: Any, app: CorpusApp) -> None:
    # Tall enough for every key and the whole Flags legend: nothing of it may be cropped.
    assert snap_compare(app, terminal_size=(130, 60), run_before=after("question_mark"))


def test_corrupt_dataset_message(snap_compare: Any, tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 5)
    (ds / "data" / "train-00000-of-00001.parquet").write_bytes(b"garbage")
    assert snap_compare(CorpusApp(ds, cursor_blink=False), terminal_size=SIZE, run_before=loaded)


def test_empty_corpus_message(snap_compare: Any, tmp_path: Path) -> None:
    ds = tmp_path / "demo"
    write_parquet(ds / "data" / "train-00000-of-00001.parquet", RECORD_SCHEMA.empty_table())
    assert snap_compare(CorpusApp(ds, cursor_blink=False), terminal_size=SIZE, run_before=loaded)


# -- the exact doc, its /// form and rendered Markdown (record 6: heading, link, fence) -------


@pytest.mark.parametrize("view", ["raw", "comment", "markdown"])
def test_detail_doc_views(snap_compare: Any, app: CorpusApp, view: str) -> None:
    keys = {"raw": (), "comment": ("t",), "markdown": ("m",)}[view]
    run = after("F", "slash", *"fn func_6(", "enter", "enter", *keys)
    assert snap_compare(app, terminal_size=(100, 44), run_before=run)


def test_detail_shows_control_characters_as_symbols(snap_compare: Any, app: CorpusApp) -> None:
    # Record 7's doc holds ESC[31m, ESC[0m and BEL: drawn as ␛ and ␇, never sent raw.
    run = after("F", "slash", *"fn func_7(", "enter", "enter")
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


# -- charts at the sizes users meet them --------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_stats_charts(snap_compare: Any, app: CorpusApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=after("2"))


# -- a passed threshold check with offenders, drilled into ----------------------------------------


def test_falsification_passed_check_with_offenders(snap_compare: Any, app: CorpusApp) -> None:
    # Failed checks first (2), then the passed one that names records: two rows down.
    run = after("3", "down", "down", "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_detail_of_a_record_a_passed_check_names(snap_compare: Any, app: CorpusApp) -> None:
    run = after("3", "down", "down", "enter", "enter")
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


# -- search at 80 columns: highlights, a doc snippet, and an empty result ------------------------


def test_records_search_at_80_columns(snap_compare: Any, app: CorpusApp) -> None:
    run = after("slash", *"longer text about func_1", "enter")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


def test_records_empty_result_hint(snap_compare: Any, app: CorpusApp) -> None:
    run = after("slash", *"no such thing", "enter")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


# -- the runs dashboard (fixture metrics, summary and eval report) --------------------------------


@pytest.mark.parametrize("tab", ["curves", "eval", "samples"])
def test_runs_dashboard(snap_compare: Any, tmp_path: Path, tab: str) -> None:
    runs = make_runs(tmp_path / "runs")
    app = CorpusApp(None, runs=runs, cursor_blink=False, refresh_s=0)
    keys = {"curves": (), "eval": ("e",), "samples": ("g",)}[tab]
    assert snap_compare(app, terminal_size=(120, 34), run_before=after("down", *keys))
