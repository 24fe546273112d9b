"""Text drawn line for line at any width, with every wrap marked (no Textual).

The detail view shows the training target exactly: a line break of the text must never be
confused with a wrap of the terminal. So a line too long for the width goes on in the next row
behind a ``↪`` in the gutter (where the line number of source code sits), cut at a character,
never at a word: nothing is dropped or moved, spaces at the break included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import get_character_cell_size
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

#: Where a row continues the line above instead of starting a line of the text.
CONTINUED = "↪"
_MARKER_STYLE = Style(color="cyan", bold=True)
_NUMBER_STYLE = Style(dim=True)
TAB_SIZE = 4


def chop(line: Text, width: int) -> list[Text]:
    """``line`` cut into rows of at most ``width`` cells (one character at least per row).

    A row ends after its last space where it has one (the space stays at its end), else at the
    last character that fits: the rows joined are exactly the line.
    """
    plain, width = line.plain, max(1, width)
    offsets: list[int] = []
    start = used = 0
    after_space = None  # where the current row could end, just after a space
    for i, ch in enumerate(plain):
        cells = get_character_cell_size(ch)
        if used and used + cells > width:
            cut = after_space if after_space is not None else i
            offsets.append(cut)
            start, after_space = cut, None
            used = sum(get_character_cell_size(c) for c in plain[start:i])
            if used + cells > width:  # what follows the space does not fit either
                offsets.append(i)
                start, used = i, 0
        used += cells
        if ch == " ":
            after_space = i + 1
    return list(line.divide(offsets)) if offsets else [line]


class MarkedLines:
    """A Rich renderable: ``text``'s lines, each wrapped to the width with a marked gutter.

    With ``first_number`` the gutter numbers the lines (source code); without, it holds only
    the ``↪`` of continued rows. ``style`` is every row's base style (a syntax background).
    """

    def __init__(
        self, text: Text, *, first_number: int | None = None, style: Style | str = ""
    ) -> None:
        self.text = text
        self.first_number = first_number
        self.style = style

    def __str__(self) -> str:
        """The text itself, without gutter or wraps."""
        return self.text.plain

    def _heads(self, count: int) -> tuple[int, int]:
        """The gutter's number column and the spaces after it, for ``count`` lines."""
        if self.first_number is None:
            return 1, 1
        return len(str(self.first_number + count - 1)), 2

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The rows at ``options.max_width`` cells: a line number (or blank) or ``↪``, then
        the row's piece of the line, padded with the base style to the full width."""
        width = options.max_width
        text = self.text.copy()
        text.expand_tabs(TAB_SIZE)
        lines = text.split("\n", allow_blank=True)
        column, gap = self._heads(len(lines))
        for n, line in enumerate(lines):
            for k, piece in enumerate(chop(line, width - column - gap)):
                row = Text(style=self.style, no_wrap=True, overflow="crop", end="\n")
                if k:
                    row.append(CONTINUED.rjust(column), style=_MARKER_STYLE)
                elif self.first_number is not None:
                    row.append(str(self.first_number + n).rjust(column), style=_NUMBER_STYLE)
                else:
                    row.append(" " * column)
                row.append(" " * gap)
                row.append_text(piece)
                row.set_length(width)
                yield row


def marked_code(code: str, theme: str, *, first_number: int | None = None) -> MarkedLines:
    """Rust ``code`` highlighted in ``theme``, its rows marked (numbered from ``first_number``)."""
    syntax = Syntax(code, "rust", theme=theme, tab_size=TAB_SIZE)
    text = syntax.highlight(code)
    if text.plain.endswith("\n") and not code.endswith("\n"):
        text.right_crop(1)  # highlight() adds a newline the code does not have
    style = syntax.background_style
    return MarkedLines(text, first_number=first_number, style=style)
