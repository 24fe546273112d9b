"""The records screen: the whole corpus in a virtual table, with filters, search and sort.

It imports no polars: the first frame is drawn before the corpus (and polars) is loaded.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static

from tui.messages import Filtered
from tui.query import (
    ANY_FAILED,
    ANY_NAMED,
    SORT_KEYS,
    Filters,
    SearchError,
    Sort,
    count_line,
    empty_hint,
)
from tui.search import Matcher
from tui.widgets.header import CorpusHeader
from tui.widgets.record_table import RecordTable

if TYPE_CHECKING:
    import polars as pl

    from tui.data import Corpus

_YES_NO: list[tuple[str, bool]] = [("yes", True), ("no", False)]
#: Below this terminal width the filters panel starts hidden (F shows it): the table needs it.
FILTERS_MIN_WIDTH = 100

#: Filter selects: (widget id suffix = Filters field, label, prompt).
FILTER_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("repo", "Repo", "any repo"),
    ("container_kind", "Container kind", "any kind"),
    ("visibility", "Visibility", "any visibility"),
    ("split", "Split", "any split"),
    ("has_examples", "Has examples", "any"),
    ("is_test", "Is test", "any"),
    ("macro_origin", "From a macro", "any"),
    ("check", "Falsification", "any"),
)
_SORT_ORDER: tuple[str | None, ...] = (*SORT_KEYS, None)


def check_options(corpus: Corpus) -> list[tuple[str, str]]:
    """The falsification filter's options: any failure, any mention, then every check that
    names records, failed ones as "fails", passed ones as "named by" (with their counts)."""
    report = corpus.falsification
    if report is None:
        return []
    out = [("fails any check", ANY_FAILED), ("named by any check", ANY_NAMED)]
    named = [c for c in report.checks if c.offending_ids]
    for c in sorted(named, key=lambda c: c.passed):  # failed first, then report order
        n = len(set(c.offending_ids))
        label = f"fails {c.id} ({n})" if not c.passed else f"named by {c.id} (passed, {n})"
        out.append((label, c.id))
    return out


def filter_options(corpus: Corpus, field: str) -> list[tuple[str, Any]]:
    """The options of the select for ``field``, from the data present."""
    from tui.filters import choices

    if field in ("has_examples", "is_test", "macro_origin"):
        return list(_YES_NO)
    if field == "check":
        return check_options(corpus)
    column = {"visibility": "vis"}.get(field, field)
    return [(v, v) for v in choices(corpus.frame, column)]


class RecordsScreen(Screen):
    """Browse every record; filters combine; `/` searches; `s` sorts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search"),
        Binding("escape", "focus_table", "Table", show=False),
        Binding("ctrl+r", "toggle_regex", "Regex"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("x", "clear_filters", "Clear filters"),
        Binding("ctrl+l", "focus_filters", "Filters", show=False),
        Binding("F", "toggle_filters", "Hide/show filters", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters()
        self.sort = Sort()
        self._generation = 0
        self._corpus: Corpus | None = None
        self._pending_check: str | None = None
        #: Set once the user shows or hides the filters panel: then the width no longer decides.
        self._panel_chosen = False

    def compose(self) -> ComposeResult:
        yield CorpusHeader("Records")
        with Horizontal():
            # The selects are made once the corpus is loaded (they need its values): eight of
            # them cost a quarter of the first frame.
            yield VerticalScroll(Static("loading…", id="filters-loading"), id="filters")
            with Vertical(id="main"):
                with Horizontal(id="search-bar"):
                    yield Input(
                        placeholder="Search name, path, signature and doc  ( / )",
                        id="search",
                        compact=True,
                    )
                    yield Checkbox("regex", id="regex", compact=True)
                yield Static("loading…", id="match-count", markup=False)
                yield RecordTable(id="records")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).cursor_blink = getattr(self.app, "cursor_blink", True)
        self._fit_panel(self.app.size.width)
        corpus = getattr(self.app, "corpus", None)
        if corpus is not None:
            self.show_corpus(corpus)
        self.query_one(RecordTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_panel(event.size.width)

    def _fit_panel(self, width: int) -> None:
        if not self._panel_chosen:
            self.query_one("#filters").set_class(width < FILTERS_MIN_WIDTH, "hidden")

    # -- data ---------------------------------------------------------------------------------

    def show_corpus(self, corpus: Corpus) -> None:
        """Fill filters and table from a freshly loaded corpus."""
        self._corpus = corpus
        self.query_one(CorpusHeader).show(corpus)
        self.query_one(RecordTable).set_frame(corpus.frame)
        self._show_count(corpus.frame.height)
        # The rows first; the filter selects once they are on screen.
        self.call_after_refresh(self._filters_ready, corpus)

    def _filters_ready(self, corpus: Corpus) -> None:
        self._mount_filters(corpus)
        if self._pending_check is not None:
            self.call_after_refresh(self.show_check, self._pending_check)

    def _mount_filters(self, corpus: Corpus) -> None:
        panel = self.query_one("#filters", VerticalScroll)
        panel.remove_children()
        widgets = []
        for field, label, prompt in FILTER_FIELDS:
            widgets.append(Label(label, classes="filter-label"))
            options = filter_options(corpus, field)
            widgets.append(Select(options, prompt=prompt, id=f"f-{field}", compact=True))
        panel.mount_all(widgets)

    def _select(self, field: str) -> Select | None:
        found = self.query(f"#f-{field}")
        return found.first(Select) if found else None

    def show_check(self, check_id: str) -> None:
        """Only the records ``check_id`` names (set from the falsification screen)."""
        if self._corpus is None:
            self._pending_check = check_id
            return
        self._pending_check = None
        select = self._select("check")
        if select is not None and check_id in {v for _, v in check_options(self._corpus)}:
            select.value = check_id
        self.query_one(RecordTable).focus()

    def neighbour(self, row_id: str, delta: int) -> str | None:
        """The record ``delta`` rows from ``row_id`` in the table as shown (filtered, sorted),
        for the detail view's next / previous; the table's cursor follows, so going back lands
        on the last record seen. None past either end."""
        table = self.query_one(RecordTable)
        if not table.move_to_id(row_id):
            return None
        target = table.cursor_row + delta
        found = table.row_id(target) if 0 <= target < table.row_count else None
        if found is not None:
            table.cursor_row = target
        return found

    def _show_count(self, shown: int, error: str | None = None) -> None:
        label = self.query_one("#match-count", Static)
        label.set_class(error is not None, "error")
        table = self.query_one(RecordTable)
        if error is not None:
            label.update(Text(error), layout=False)
            return
        total = self._corpus.frame.height if self._corpus else 0
        table.empty_hint = empty_hint(self.filters) if shown == 0 else ""
        label.update(Text(count_line(shown, total, self.filters)), layout=False)

    def _refilter(self) -> None:
        if self._corpus is None:
            return
        self._generation += 1
        work = partial(
            self._filter_in_thread, self._generation, self.filters, self.sort, self._corpus.frame
        )
        self.run_worker(work, thread=True, exclusive=True, group="filter")

    def _filter_in_thread(
        self, generation: int, filters: Filters, sort: Sort, frame: pl.DataFrame
    ) -> None:
        # Runs in a worker thread: talks to the UI only by posting a message.
        from tui.filters import apply_view

        try:
            result = apply_view(frame, filters, sort)
        except SearchError as exc:
            self.post_message(Filtered(generation, filters, None, str(exc), sort=sort))
            return
        self.post_message(Filtered(generation, filters, result, sort=sort))

    def on_filtered(self, message: Filtered) -> None:
        if message.generation != self._generation:
            return  # a newer keystroke superseded this run
        if message.frame is None:
            self._show_count(0, message.error)
            return
        table = self.query_one(RecordTable)
        matcher = Matcher.for_search(message.filters.search, message.filters.regex)
        table.set_frame(message.frame, keep_id=table.row_id(), matcher=matcher, sort=message.sort)
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
        self.app.open_record(event.row_id, self.neighbour)  # type: ignore[attr-defined]

    @on(RecordTable.SortRequested)
    def _sort_clicked(self, event: RecordTable.SortRequested) -> None:
        self._set_sort(self.sort.toggled(event.column))

    # -- actions ------------------------------------------------------------------------------

    def _set_sort(self, sort: Sort) -> None:
        self.sort = sort
        self._refilter()

    def action_cycle_sort(self) -> None:
        """Sort by the next column (Repo, Path:line, ... Flags, then the dataset's order)."""
        nxt = _SORT_ORDER[(_SORT_ORDER.index(self.sort.column) + 1) % len(_SORT_ORDER)]
        self._set_sort(Sort(nxt, self.sort.descending if nxt else False))

    def action_reverse_sort(self) -> None:
        if self.sort.column is not None:
            self._set_sort(Sort(self.sort.column, not self.sort.descending))

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one(RecordTable).focus()

    def action_focus_filters(self) -> None:
        self._panel_chosen = True
        self.query_one("#filters", VerticalScroll).remove_class("hidden")
        select = self._select("repo")
        if select is not None:
            select.focus()

    def action_toggle_filters(self) -> None:
        self._panel_chosen = True
        panel = self.query_one("#filters", VerticalScroll)
        panel.toggle_class("hidden")
        if panel.has_class("hidden") and panel.has_focus_within:
            self.action_focus_table()

    def action_toggle_regex(self) -> None:
        self.query_one("#regex", Checkbox).toggle()

    def action_clear_filters(self) -> None:
        for select in self.query(Select):
            select.clear()
        self.query_one("#search", Input).value = ""
        self.filters = Filters(regex=self.filters.regex)
        self._refilter()
