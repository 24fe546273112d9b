"""The records screen: the whole corpus in a virtual table, with filters and search."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

import polars as pl
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static

from tui.data import Corpus
from tui.filters import ANY_CHECK, Filters, SearchError, apply_filters, choices
from tui.messages import Filtered
from tui.widgets.header import CorpusHeader
from tui.widgets.record_table import RecordTable

_YES_NO: list[tuple[str, bool]] = [("yes", True), ("no", False)]

#: Filter selects: (widget id suffix = Filters field, label, prompt).
FILTER_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("repo", "Repo", "any repo"),
    ("container_kind", "Container kind", "any kind"),
    ("visibility", "Visibility", "any visibility"),
    ("split", "Split", "any split"),
    ("has_examples", "Has examples", "any"),
    ("is_test", "Is test", "any"),
    ("macro_origin", "From a macro", "any"),
    ("fails_check", "Falsification", "any"),
)


def filter_options(corpus: Corpus, field: str) -> list[tuple[str, Any]]:
    """The options of the select for ``field``, from the data present."""
    frame = corpus.frame
    if field in ("has_examples", "is_test", "macro_origin"):
        return list(_YES_NO)
    if field == "fails_check":
        report = corpus.falsification
        failed = [c.id for c in report.failed] if report else []
        return [("fails any check", ANY_CHECK)] + [(f"fails {cid}", cid) for cid in failed]
    column = {"visibility": "vis"}.get(field, field)
    return [(v, v) for v in choices(frame, column)]


class RecordsScreen(Screen):
    """Browse every record; filters combine; `/` searches name, path and doc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search"),
        Binding("escape", "focus_table", "Table", show=False),
        Binding("ctrl+r", "toggle_regex", "Regex"),
        Binding("x", "clear_filters", "Clear filters"),
        Binding("ctrl+l", "focus_filters", "Filters", show=False),
        Binding("F", "toggle_filters", "Hide/show filters", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters()
        self._generation = 0
        self._corpus: Corpus | None = None
        self._pending_check: str | None = None

    def compose(self) -> ComposeResult:
        yield CorpusHeader("Records")
        with Horizontal():
            with VerticalScroll(id="filters"):
                for field, label, prompt in FILTER_FIELDS:
                    yield Label(label, classes="filter-label")
                    yield Select([], prompt=prompt, id=f"f-{field}", compact=True)
            with Vertical(id="main"):
                with Horizontal(id="search-bar"):
                    yield Input(
                        placeholder="Search name, path and doc  ( / )", id="search", compact=True
                    )
                    yield Checkbox("regex", id="regex", compact=True)
                yield Static("loading…", id="match-count", markup=False)
                yield RecordTable(id="records")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).cursor_blink = getattr(self.app, "cursor_blink", True)
        corpus = getattr(self.app, "corpus", None)
        if corpus is not None:
            self.show_corpus(corpus)
        self.query_one(RecordTable).focus()

    # -- data ---------------------------------------------------------------------------------

    def show_corpus(self, corpus: Corpus) -> None:
        """Fill filters and table from a freshly loaded corpus."""
        self._corpus = corpus
        self.query_one(CorpusHeader).show(corpus)
        for field, _, _ in FILTER_FIELDS:
            self.query_one(f"#f-{field}", Select).set_options(filter_options(corpus, field))
        self.query_one(RecordTable).set_frame(corpus.frame)
        self._show_count(corpus.frame.height)
        if self._pending_check is not None:
            self.show_check(self._pending_check)

    def show_check(self, check_id: str) -> None:
        """Only the records failing ``check_id`` (set from the falsification screen)."""
        if self._corpus is None:
            self._pending_check = check_id
            return
        self._pending_check = None
        select = self.query_one("#f-fails_check", Select)
        if check_id in {v for _, v in filter_options(self._corpus, "fails_check")}:
            select.value = check_id
        self.query_one(RecordTable).focus()

    def _show_count(self, shown: int, error: str | None = None) -> None:
        label = self.query_one("#match-count", Static)
        label.set_class(error is not None, "error")
        if error is not None:
            label.update(Text(error), layout=False)
            return
        total = self._corpus.frame.height if self._corpus else 0
        what = "matches" if self.filters.search else "records"
        text = f"{shown:,} {what}" + (f" of {total:,}" if shown != total else "")
        label.update(Text(text), layout=False)  # one fixed-height line: no relayout needed

    def _refilter(self) -> None:
        if self._corpus is None:
            return
        self._generation += 1
        work = partial(self._filter_in_thread, self._generation, self.filters, self._corpus.frame)
        self.run_worker(work, thread=True, exclusive=True, group="filter")

    def _filter_in_thread(self, generation: int, filters: Filters, frame: pl.DataFrame) -> None:
        # Runs in a worker thread: talks to the UI only by posting a message.
        try:
            result = apply_filters(frame, filters)
        except SearchError as exc:
            self.post_message(Filtered(generation, filters, None, str(exc)))
            return
        self.post_message(Filtered(generation, filters, result))

    def on_filtered(self, message: Filtered) -> None:
        if message.generation != self._generation:
            return  # a newer keystroke superseded this run
        if message.frame is None:
            self._show_count(0, message.error)
            return
        table = self.query_one(RecordTable)
        table.set_frame(message.frame, keep_id=table.row_id())
        self._show_count(message.frame.height)

    # -- events -------------------------------------------------------------------------------

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        field = (event.select.id or "").removeprefix("f-")
        value = None if event.value is Select.NULL else event.value
        if getattr(self.filters, field) != value:
            self.filters = self.filters.with_(**{field: value})
            self._refilter()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.filters = self.filters.with_(search=event.value)
        self._refilter()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.action_focus_table()

    @on(Checkbox.Changed, "#regex")
    def _regex_changed(self, event: Checkbox.Changed) -> None:
        self.filters = self.filters.with_(regex=event.value)
        if self.filters.search:
            self._refilter()

    @on(RecordTable.Selected)
    def _open(self, event: RecordTable.Selected) -> None:
        self.app.open_record(event.row_id)  # type: ignore[attr-defined]

    # -- actions ------------------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one(RecordTable).focus()

    def action_focus_filters(self) -> None:
        self.query_one("#filters", VerticalScroll).remove_class("hidden")
        self.query_one("#f-repo", Select).focus()

    def action_toggle_filters(self) -> None:
        panel = self.query_one("#filters", VerticalScroll)
        panel.toggle_class("hidden")
        if panel.has_class("hidden") and panel.has_focus_within:
            self.action_focus_table()

    def action_toggle_regex(self) -> None:
        self.query_one("#regex", Checkbox).toggle()

    def action_clear_filters(self) -> None:
        for field, _, _ in FILTER_FIELDS:
            self.query_one(f"#f-{field}", Select).clear()
        self.query_one("#search", Input).value = ""
        self.filters = Filters(regex=self.filters.regex)
        self._refilter()
