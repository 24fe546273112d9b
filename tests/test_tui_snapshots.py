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


def test_stats_screen(snap_compare: Any, app: CorpusApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=after("2"))


def test_falsification_screen(snap_compare: Any, app: CorpusApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=after("3", "down", "enter"))


def test_help_screen(snap_compare: Any, app: CorpusApp) -> None:
    # Tall enough for every key and the whole Flags legend: nothing of it may be cropped.
    assert snap_compare(app, terminal_size=(130, 56), run_before=after("question_mark"))


def test_corrupt_dataset_message(snap_compare: Any, tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 5)
    (ds / "data" / "train-00000-of-00001.parquet").write_bytes(b"garbage")
    assert snap_compare(CorpusApp(ds, cursor_blink=False), terminal_size=SIZE, run_before=loaded)


def test_empty_corpus_message(snap_compare: Any, tmp_path: Path) -> None:
    ds = tmp_path / "demo"
    write_parquet(ds / "data" / "train-00000-of-00001.parquet", RECORD_SCHEMA.empty_table())
    assert snap_compare(CorpusApp(ds, cursor_blink=False), terminal_size=SIZE, run_before=loaded)
