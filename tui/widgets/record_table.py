"""A virtual table over a polars frame: only the visible rows are ever turned into text.

Textual's DataTable copies every row into widgets' state up front, which costs seconds at
20,000 rows and again on every search keystroke; this table keeps the frame and renders the
lines in view (Textual's line API), so replacing 20,000 rows is one assignment.

Every cell is corpus text shown through ``corpus.text.show_controls`` (never markup); search
matches are highlighted in the cells, and a row whose match is in no visible column shows a
snippet of its doc or signature in the summary column instead. Narrow tables drop the Vis and
Kind columns (both are filters) before the name and summary columns get too thin to read.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from corpus.text import show_controls
from tui.cells import Fitted, fit, pieces
from tui.columns import TABLE_COLUMNS
from tui.query import Sort
from tui.search import Matcher, Snippet, snippet

if TYPE_CHECKING:
    import polars as pl

# Fixed widths; the qualified name and the doc summary share what is left (_FLEX weights).
_WIDTHS = {"repo_name": 8, "location": 24, "container_kind": 10, "vis": 10, "flags": 5}
_FLEX = {"qualified_path": 1, "summary": 1}
#: Below this many cells each for the name and the summary, drop a column (in this order).
_FLEX_WANT = 24
_DROPPABLE = ("vis", "container_kind")
_SQUEEZES = (*_DROPPABLE, "location")
_NARROW_LOCATION = 18
_FLEX_MIN = 12
_GAP = 1
# Columns whose end matters most (the file name and line, the item's own name): cut on the left.
_CUT_LEFT = frozenset({"location", "qualified_path"})
#: Fields a snippet may come from when the match is in no visible column.
_SNIPPET_FIELDS = (("doc", "doc"), ("sig", "signature"))
_EXTRA = ("id", "doc", "signature")
#: A piece of a cell: fitted text, and whether it is a snippet's label rather than corpus text.
_Part = tuple[Fitted, bool]


def layout_columns(width: int) -> list[tuple[str, int]]:
    """(column, width) of the columns shown in a table ``width`` cells wide.

    While the name and summary would get fewer than ``_FLEX_WANT`` cells each, the table
    squeezes in this order: drop Vis, drop Kind, narrow Path:line.
    """
    columns = [name for name, _ in TABLE_COLUMNS]
    widths = dict(_WIDTHS)

    def spare() -> int:
        fixed = sum(widths[c] for c in columns if c not in _FLEX)
        return width - fixed - _GAP * (len(columns) - 1)

    for squeeze in _SQUEEZES:
        if spare() >= _FLEX_WANT * len(_FLEX):
            break
        if squeeze in columns and squeeze in _DROPPABLE:
            columns.remove(squeeze)
        elif squeeze == "location":
            widths["location"] = _NARROW_LOCATION
    room = max(spare(), _FLEX_MIN * len(_FLEX))
    total = sum(_FLEX.values())
    flex = {c: max(room * w // total, _FLEX_MIN) for c, w in _FLEX.items()}
    flex["summary"] += room - sum(flex.values())  # rounding leftovers: the row fills the width
    return [(c, flex.get(c) or widths[c]) for c in columns]


class RecordTable(ScrollView, can_focus=True):
    """Rows of the records frame with a fixed header line and a row cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False),
        Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=True),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-table--header",
        "record-table--cursor",
        "record-table--odd",
        "record-table--match",
        "record-table--label",
        "record-table--hint",
    }

    DEFAULT_CSS = """
    RecordTable { height: 1fr; }
    RecordTable > .record-table--header { text-style: bold; background: $panel; }
    RecordTable > .record-table--cursor { background: $accent 50%; }
    RecordTable:focus > .record-table--cursor { background: $accent; color: $text; }
    RecordTable > .record-table--odd { background: $boost; }
    RecordTable > .record-table--match {
        background: $primary; color: $text; text-style: bold underline;
    }
    RecordTable > .record-table--label { color: $text-muted; text-style: italic; }
    RecordTable > .record-table--hint { color: $text-muted; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class Selected(Message):
        """Enter (or a double click) on a row: ``row_id`` is the record id."""

        def __init__(self, row_id: str) -> None:
            self.row_id = row_id
            super().__init__()

    class SortRequested(Message):
        """A click on the header of ``column``."""

        def __init__(self, column: str) -> None:
            self.column = column
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns = [name for name, _ in TABLE_COLUMNS]
        self._labels = dict(TABLE_COLUMNS)
        self._frame: pl.DataFrame | None = None  # polars is imported only once data arrives
        self._cache_start = 0
        self._cache: list[tuple] = []
        self._matcher: Matcher | None = None
        self.sort = Sort()
        #: Shown in the body when there are no rows (set by the screen: why, and what to do).
        self.empty_hint = ""

    # -- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows the table holds (after filtering)."""
        return 0 if self._frame is None else self._frame.height

    @property
    def ids(self) -> list[str]:
        """The record ids of the rows, in table order."""
        return [] if self._frame is None else self._frame.get_column("id").to_list()

    def set_frame(
        self,
        frame: pl.DataFrame,
        keep_id: str | None = None,
        *,
        matcher: Matcher | None = None,
        sort: Sort | None = None,
    ) -> None:
        """Show ``frame``'s rows; keep the cursor on ``keep_id`` if it is still there."""
        self._frame = frame.select([*self._columns, *_EXTRA])
        self._matcher = matcher
        self.sort = sort or Sort()
        self._cache = []
        self.virtual_size = Size(self._content_width(), self._frame.height + 1)
        row = self._index_of(keep_id) if keep_id is not None else None
        self.cursor_row = row or 0
        self.scroll_to(y=max(0, self.cursor_row - 1), animate=False, immediate=True)
        self.refresh()

    def _index_of(self, row_id: str) -> int | None:
        if self._frame is None or not self._frame.height:
            return None
        hits = self._frame.get_column("id").eq(row_id).arg_true()
        return int(hits[0]) if len(hits) else None

    def row_id(self, row: int | None = None) -> str | None:
        """The record id at ``row`` (default: the cursor row)."""
        row = self.cursor_row if row is None else row
        if self._frame is not None and 0 <= row < self._frame.height:
            return str(self._frame.item(row, "id"))
        return None

    def move_to_id(self, row_id: str) -> bool:
        """Put the cursor on ``row_id``; False if the table does not hold it."""
        row = self._index_of(row_id)
        if row is None:
            return False
        self.cursor_row = row
        return True

    def _rows(self, index: int) -> tuple | None:
        if self._frame is None or not 0 <= index < self._frame.height:
            return None
        offset = index - self._cache_start
        if not 0 <= offset < len(self._cache):
            # Fetch a window around the request so a page of scrolling is one polars slice.
            span = max(self.size.height * 3, 64)
            self._cache_start = max(0, index - span // 3)
            self._cache = self._frame.slice(self._cache_start, span).rows()
            offset = index - self._cache_start
        return self._cache[offset]

    # -- layout and rendering -----------------------------------------------------------------

    def _content_width(self) -> int:
        return max(self.scrollable_content_region.width, 1)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self._content_width(), self.row_count + 1)
        self._cache = []

    def _header_cells(self, layout: list[tuple[str, int]]) -> list[Fitted]:
        cells = []
        for column, width in layout:
            label = self._labels[column]
            if self.sort.column == column:
                label += " ▼" if self.sort.descending else " ▲"
            cells.append(fit(label, width))
        return cells

    def _row_cells(self, row: tuple, layout: list[tuple[str, int]]) -> list[list[_Part]]:
        """Each visible cell as its parts: fitted text with its matches, and whether the part
        is a snippet's label (``doc:``/``sig:``) rather than corpus text."""
        values = dict(zip([*self._columns, *_EXTRA], row, strict=True))
        matcher = self._matcher
        texts = {c: show_controls("" if values[c] is None else str(values[c])) for c, _ in layout}
        spans = {c: tuple(matcher.spans(t)) if matcher else () for c, t in texts.items()}
        cells: list[list[_Part]] = []
        for column, width in layout:
            found = None
            if column == "summary" and matcher is not None:
                found = self._summary_snippet(values, texts["summary"], spans, width)
            if found is not None:
                head = f"{found.label}: " if found.label else ""
                label = fit(head, min(len(head), width))
                rest = fit(found.text, width - len(label.text), spans=tuple(found.spans))
                cells.append([(label, True), (rest, False)] if head else [(rest, False)])
            else:
                cut_left = column in _CUT_LEFT
                cells.append([(fit(texts[column], width, cut_left=cut_left, spans=spans[column]),
                               False)])  # fmt: skip
        return cells

    def _summary_snippet(
        self, values: dict, summary: str, spans: dict[str, tuple], width: int
    ) -> Snippet | None:
        """What the summary column shows while searching, when the summary as it is would show
        no match: the summary around its match, else the doc's or signature's matching line."""
        assert self._matcher is not None
        lead = max(2, width // 4)
        if spans["summary"]:
            if spans["summary"][0][1] <= width - 1:
                return None  # the match is in view already
            return snippet(self._matcher, [("", summary)], lead)
        if any(spans.values()):
            return None  # another visible column shows the match
        fields = [(lbl, show_controls(values[f] or "")) for lbl, f in _SNIPPET_FIELDS]
        return snippet(self._matcher, fields, lead)

    def _strip(self, cells: list[list[_Part]], style: Style, width: int) -> Strip:
        match = style + self.get_component_rich_style("record-table--match", partial=True)
        label = style + self.get_component_rich_style("record-table--label", partial=True)
        segments: list[Segment] = []
        for n, parts in enumerate(cells):
            if n:
                segments.append(Segment(" " * _GAP, style))
            for cell, is_label in parts:
                for text, hit in pieces(cell):
                    segments.append(Segment(text, match if hit else label if is_label else style))
        return Strip(segments).crop_extend(0, width, style)

    def _hint_line(self, y: int, width: int, base: Style) -> Strip:
        """The empty table's body: the hint, word-wrapped, from the second line down."""
        lines = (
            textwrap.wrap(self.empty_hint, max(width - 2, 10)) if self._frame is not None else []
        )
        if not 0 <= y - 2 < len(lines):
            return Strip.blank(width, base)
        style = base + self.get_component_rich_style("record-table--hint", partial=True)
        return Strip([Segment(" " + lines[y - 2], style)]).crop_extend(0, width, base)

    def render_line(self, y: int) -> Strip:
        width = self._content_width()
        layout = layout_columns(width)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("record-table--header")
            cells = [[(c, False)] for c in self._header_cells(layout)]
            return self._strip(cells, style, width)
        index = self.scroll_offset.y + y - 1
        row = self._rows(index)
        if row is None:
            return self._hint_line(y, width, base) if self.row_count == 0 else Strip.blank(width)
        if index == self.cursor_row:
            style = base + self.get_component_rich_style("record-table--cursor")
        elif index % 2:
            style = base + self.get_component_rich_style("record-table--odd")
        else:
            style = base
        return self._strip(self._row_cells(row, layout), style, width)

    # -- cursor -------------------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, self.row_count - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        visible = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self.cursor_row += delta

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * max(self.size.height - 2, 1)

    def action_jump(self, row: int) -> None:
        self.cursor_row = row if row >= 0 else self.row_count - 1

    def action_select(self) -> None:
        row_id = self.row_id()
        if row_id is not None:
            self.post_message(self.Selected(row_id))

    def column_at(self, x: int) -> str | None:
        """The column under screen column ``x`` of the table (None in a gap)."""
        pos = 0
        for column, width in layout_columns(self._content_width()):
            if pos <= x < pos + width:
                return column
            pos += width + _GAP
        return None

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self.column_at(event.x + self.scroll_offset.x)
            if column is not None:
                self.post_message(self.SortRequested(column))
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < self.row_count:
            self.cursor_row = index
            if event.chain >= 2:
                self.action_select()
