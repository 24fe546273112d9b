"""A virtual table over a polars frame: only the visible rows are ever turned into text.

Textual's DataTable copies every row into widgets' state up front, which costs seconds at
20,000 rows and again on every search keystroke; this table keeps the frame and renders the
lines in view (Textual's line API), so replacing 20,000 rows is one assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.data import TABLE_COLUMNS

# Fixed widths; the qualified name and the doc summary share what is left (_FLEX weights).
_WIDTHS = {"repo_name": 8, "location": 24, "container_kind": 10, "vis": 10, "flags": 5}
_FLEX = {"qualified_path": 3, "summary": 2}
_FLEX_MIN = 12
_GAP = 1


@dataclass(frozen=True)
class _Layout:
    widths: tuple[int, ...]


# Columns whose end matters most (file name and line): cut on the left.
_CUT_LEFT = frozenset({"location"})


def _cell(value: object, width: int, cut_left: bool = False) -> str:
    text = "" if value is None else str(value)
    if cell_len(text) > width:
        if cut_left and width > 1:
            return "…" + set_cell_size(text[::-1], width - 1)[::-1]
        return set_cell_size(text, max(width - 1, 0)) + "…"
    return set_cell_size(text, width)


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
    }

    DEFAULT_CSS = """
    RecordTable { height: 1fr; }
    RecordTable > .record-table--header { text-style: bold; background: $panel; }
    RecordTable > .record-table--cursor { background: $accent 50%; }
    RecordTable:focus > .record-table--cursor { background: $accent; color: $text; }
    RecordTable > .record-table--odd { background: $boost; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class Selected(Message):
        """Enter (or a double click) on a row: ``row_id`` is the record id."""

        def __init__(self, row_id: str) -> None:
            self.row_id = row_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns = [name for name, _ in TABLE_COLUMNS]
        self._frame = pl.DataFrame(schema={c: pl.String for c in [*self._columns, "id"]})
        self._cache_start = 0
        self._cache: list[tuple] = []

    # -- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows the table holds (after filtering)."""
        return self._frame.height

    def set_frame(self, frame: pl.DataFrame, keep_id: str | None = None) -> None:
        """Show ``frame``'s rows; keep the cursor on ``keep_id`` if it is still there."""
        self._frame = frame.select([*self._columns, "id"])
        self._cache = []
        self.virtual_size = Size(self._content_width(), self._frame.height + 1)
        row = 0
        if keep_id is not None and self._frame.height:
            hits = self._frame.get_column("id").eq(keep_id).arg_true()
            row = int(hits[0]) if len(hits) else 0
        self.cursor_row = row
        self.scroll_to(y=max(0, row - 1), animate=False, immediate=True)
        self.refresh()

    def row_id(self, row: int | None = None) -> str | None:
        """The record id at ``row`` (default: the cursor row)."""
        row = self.cursor_row if row is None else row
        if 0 <= row < self._frame.height:
            return str(self._frame.item(row, "id"))
        return None

    def move_to_id(self, row_id: str) -> bool:
        """Put the cursor on ``row_id``; False if the table does not hold it."""
        hits = self._frame.get_column("id").eq(row_id).arg_true()
        if not len(hits):
            return False
        self.cursor_row = int(hits[0])
        return True

    def _rows(self, index: int) -> tuple | None:
        if not 0 <= index < self._frame.height:
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

    def _layout(self, width: int) -> _Layout:
        fixed = sum(_WIDTHS.values())
        gaps = _GAP * (len(self._columns) - 1)
        spare = max(width - fixed - gaps, _FLEX_MIN * len(_FLEX))
        total = sum(_FLEX.values())
        flex = {c: max(spare * w // total, _FLEX_MIN) for c, w in _FLEX.items()}
        # Rounding leftovers go to the summary so the row fills the width exactly.
        flex["summary"] += spare - sum(flex.values())
        widths = tuple(flex.get(c) or _WIDTHS[c] for c in self._columns)
        return _Layout(widths)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self._content_width(), self._frame.height + 1)
        self._cache = []

    def _line(self, values: tuple, layout: _Layout, style: Style) -> Strip:
        text = (" " * _GAP).join(
            _cell(v, w, c in _CUT_LEFT)
            for v, w, c in zip(values, layout.widths, self._columns, strict=False)
        )
        return Strip([Segment(text, style)])

    def render_line(self, y: int) -> Strip:
        width = self._content_width()
        layout = self._layout(width)
        base = self.rich_style
        if y == 0:
            header = tuple(label for _, label in TABLE_COLUMNS)
            style = base + self.get_component_rich_style("record-table--header")
            return self._line(header, layout, style).crop_extend(0, width, style)
        index = self.scroll_offset.y + y - 1
        row = self._rows(index)
        if row is None:
            return Strip.blank(width, base)
        if index == self.cursor_row:
            style = base + self.get_component_rich_style("record-table--cursor")
        elif index % 2:
            style = base + self.get_component_rich_style("record-table--odd")
        else:
            style = base
        return self._line(row, layout, style).crop_extend(0, width, style)

    # -- cursor -------------------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, self._frame.height - 1))

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
        self.cursor_row = row if row >= 0 else self._frame.height - 1

    def action_select(self) -> None:
        row_id = self.row_id()
        if row_id is not None:
            self.post_message(self.Selected(row_id))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < self._frame.height:
            self.cursor_row = index
            if event.chain >= 2:
                self.action_select()
