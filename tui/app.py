"""The corpus TUI application: loads the dataset in a worker, then shows its screens."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from corpus.errors import CorpusError, ExitCode
from tui.data import Corpus, load_corpus
from tui.filters import Filters, apply_filters
from tui.messages import CorpusLoaded, LoadFailed
from tui.screens.detail import DetailScreen
from tui.screens.falsification import FalsificationScreen
from tui.screens.help import HelpScreen
from tui.screens.message import MessageScreen
from tui.screens.records import RecordsScreen
from tui.screens.stats import StatsScreen


class CorpusApp(App[int]):
    """Browse, search and audit a dataset; the return code is an ExitCode."""

    TITLE = "rustdoc-corpus"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, Any]] = {
        "stats": StatsScreen,
        "falsification": FalsificationScreen,
    }
    DEFAULT_MODE = "records"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("1", "mode('records')", "Records"),
        Binding("2", "mode('stats')", "Stats"),
        Binding("3", "mode('falsification')", "Falsification"),
    ]

    def __init__(self, dataset: Path, *, cursor_blink: bool = True) -> None:
        super().__init__()
        self.dataset = Path(dataset)
        self.corpus: Corpus | None = None
        self.load_error: str | None = None
        #: Tests and snapshots turn the blinking cursor off so that screenshots are stable.
        self.cursor_blink = cursor_blink
        # One records screen for the app's life: loading and the falsification screen talk to it.
        self.records_screen = RecordsScreen()
        self.add_mode("records", lambda: self.records_screen)

    def on_mount(self) -> None:
        # Reading and preparing 20,000+ rows takes a few hundred ms: never on the UI thread.
        self.run_worker(self._load, thread=True, exclusive=True, group="load")

    def _load(self) -> None:
        try:
            corpus = load_corpus(self.dataset)
        except CorpusError as exc:
            self.post_message(LoadFailed(str(exc)))
            return
        # polars sets up its string kernels on first use (~100 ms): pay that here, not on the
        # user's first search keystroke.
        apply_filters(corpus.frame.head(1), Filters(search="warm-up"))
        self.post_message(CorpusLoaded(corpus))

    def on_corpus_loaded(self, message: CorpusLoaded) -> None:
        if message.corpus.frame.height == 0:
            self._fail(
                f"{self.dataset.name}: the dataset has no records, so there is nothing to "
                "browse. Build one with `corpus build` and point `corpus tui` at its folder."
            )
            return
        self.corpus = message.corpus
        self.records_screen.show_corpus(message.corpus)
        # Everything loaded so far lives as long as the app: keep the collector from walking
        # it again and again (its full collections were the spikes in keystroke latency).
        # After the refresh, so that the first paint does not wait for it.
        self.call_after_refresh(gc.freeze)

    def on_load_failed(self, message: LoadFailed) -> None:
        self._fail(message.message)

    def _fail(self, message: str) -> None:
        self.load_error = message
        # On screen, paths relative to the dataset's parent read better (and do not vary).
        parent = str(self.dataset.resolve().parent)
        message = message.replace(parent + "/", "").replace(str(self.dataset.parent) + "/", "")
        self.push_screen(MessageScreen("Cannot open this dataset", message))

    # -- actions ------------------------------------------------------------------------------

    def action_mode(self, mode: str) -> None:
        if self.corpus is None:
            self.notify(
                "Still loading the dataset…" if self.load_error is None else "No dataset loaded.",
                markup=False,
            )
            return
        self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_quit(self) -> None:  # type: ignore[override]
        code = ExitCode.BAD_INPUT if self.load_error else ExitCode.OK
        self.exit(int(code), return_code=int(code))

    def open_record(self, row_id: str) -> None:
        """Push the detail screen for the record ``row_id`` in the current mode."""
        if self.corpus is None:
            return
        record = self.corpus.record(row_id)
        if record is None:
            self.notify(
                f"Record {row_id[:16]}… is not in this dataset.", severity="warning", markup=False
            )
            return
        self.push_screen(DetailScreen(record, self.corpus))

    def show_check_in_records(self, check_id: str) -> None:
        """Switch to the records screen filtered to the records failing ``check_id``."""
        self.switch_mode("records")
        while self.screen is not self.records_screen and len(self.screen_stack) > 1:
            self.pop_screen()
        self.records_screen.show_check(check_id)
