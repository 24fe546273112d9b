"""The corpus TUI application: draws its first frame at once, then loads the dataset in a worker.

Nothing heavy is imported before the first frame: polars, the report model and the screens other
than Records are imported by the loading worker or when first shown.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from corpus.errors import CorpusError, ExitCode
from tui.messages import CorpusLoaded, LoadFailed
from tui.screens.help import HelpScreen
from tui.screens.message import MessageScreen
from tui.screens.records import RecordsScreen

if TYPE_CHECKING:
    from tui.data import Corpus

#: (current id, step) -> the id ``step`` records away, or None: the detail view's next / previous.
Neighbour = Callable[[str, int], "str | None"]


def _stats_screen() -> Screen:
    from tui.screens.stats import StatsScreen

    return StatsScreen()


def _falsification_screen() -> Screen:
    from tui.screens.falsification import FalsificationScreen

    return FalsificationScreen()


class CorpusApp(App[int]):
    """Browse, search and audit a dataset (and training runs); the return code is an ExitCode."""

    TITLE = "rustdoc-corpus"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("1", "mode('records')", "Records"),
        Binding("2", "mode('stats')", "Stats"),
        Binding("3", "mode('falsification')", "Falsification"),
        Binding("4", "mode('runs')", "Runs"),
    ]

    def __init__(
        self,
        dataset: Path | None,
        *,
        runs: Path | None = None,
        cursor_blink: bool = True,
        refresh_s: float = 1.0,
    ) -> None:
        # With only a runs folder, the runs dashboard is the first screen.
        self.DEFAULT_MODE = "records" if dataset is not None else "runs"  # type: ignore[misc]
        super().__init__()
        self.dataset = Path(dataset) if dataset is not None else None
        self.runs_dir = Path(runs) if runs is not None else None
        self.corpus: Corpus | None = None
        self.load_error: str | None = None
        #: Tests and snapshots turn the blinking cursor off so that screenshots are stable.
        self.cursor_blink = cursor_blink
        #: Seconds between two looks at the runs folder (0: only when asked, as tests do).
        self.refresh_s = refresh_s
        # One records screen for the app's life: loading and the falsification screen talk to it.
        self.records_screen = RecordsScreen()
        self.add_mode("records", lambda: self.records_screen)
        self.add_mode("stats", _stats_screen)
        self.add_mode("falsification", _falsification_screen)
        self.add_mode("runs", self._runs_screen)

    def _runs_screen(self) -> Screen:
        from tui.screens.runs import RunsScreen

        return RunsScreen(self.runs_dir, refresh_s=self.refresh_s)

    def on_mount(self) -> None:
        if self.dataset is not None:
            # Reading 20,000+ rows (and importing polars) takes a few hundred ms: in a thread,
            # never on the UI thread, and only once the first frame is on screen (a thread
            # started earlier would hold the GIL while that frame is being drawn).
            self.call_after_refresh(self._start_loading)

    def _start_loading(self) -> None:
        self.run_worker(self._load, thread=True, exclusive=True, group="load")

    def _load(self) -> None:
        from tui.data import load_corpus
        from tui.filters import Filters, apply_filters

        assert self.dataset is not None
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
                f"{message.corpus.name}: the dataset has no records, so there is nothing to "
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
        assert self.dataset is not None
        # On screen, paths relative to the dataset's parent read better (and do not vary).
        parent = str(self.dataset.resolve().parent)
        message = message.replace(parent + "/", "").replace(str(self.dataset.parent) + "/", "")
        self.push_screen(MessageScreen("Cannot open this dataset", message))

    # -- actions ------------------------------------------------------------------------------

    def action_mode(self, mode: str) -> None:
        if mode != "runs" and self.corpus is None:
            if self.dataset is None:
                note = "No dataset: start with `corpus tui DATASET` to browse records."
            elif self.load_error is None:
                note = "Still loading the dataset…"
            else:
                note = "No dataset loaded."
            self.notify(note, markup=False)
            return
        self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_quit(self) -> None:  # type: ignore[override]
        code = ExitCode.BAD_INPUT if self.load_error else ExitCode.OK
        self.exit(int(code), return_code=int(code))

    def open_record(self, row_id: str, neighbour: Neighbour | None = None) -> None:
        """Push the detail screen for the record ``row_id`` in the current mode; ``neighbour``
        gives its next / previous record (in the list it was opened from)."""
        from tui.screens.detail import DetailScreen

        if self.corpus is None:
            return
        record = self.corpus.record(row_id)
        if record is None:
            self.notify(
                f"Record {row_id[:16]}… is not in this dataset.", severity="warning", markup=False
            )
            return
        self.push_screen(DetailScreen(record, self.corpus, neighbour))

    def show_check_in_records(self, check_id: str) -> None:
        """Switch to the records screen showing the records ``check_id`` names."""
        self.switch_mode("records")
        while self.screen is not self.records_screen and len(self.screen_stack) > 1:
            self.pop_screen()
        self.records_screen.show_check(check_id)
