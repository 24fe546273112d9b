"""Fitting text into fixed-width table cells, keeping track of highlighted spans (no Textual).

A cell that is too wide is cut with an ellipsis on the right, or on the left for columns whose
end matters most (``src/…/file.rs:12``, ``…Builder::new``); spans of the original text (search
matches) are moved to where they land in the cut text, or dropped when they are cut away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

Span = tuple[int, int]
ELLIPSIS = "…"


@dataclass(frozen=True)
class Fitted:
    """A cell's text, exactly ``width`` cells wide, and its highlighted spans (characters)."""

    text: str
    spans: tuple[Span, ...] = ()


def _keep_right(text: str, width: int) -> int:
    """The largest k such that text[:k] fits in ``width`` cells."""
    k = len(text)
    while k and cell_len(text[:k]) > width:
        k -= max(1, (cell_len(text[:k]) - width) // 2)
    return k


def _keep_left(text: str, width: int) -> int:
    """The smallest j such that text[j:] fits in ``width`` cells."""
    j = 0
    while j < len(text) and cell_len(text[j:]) > width:
        j += max(1, (cell_len(text[j:]) - width) // 2)
    return j


def fit(text: str, width: int, *, cut_left: bool = False, spans: tuple[Span, ...] = ()) -> Fitted:
    """``text`` fitted into ``width`` cells, with ``spans`` moved along."""
    if width <= 0:
        return Fitted("")
    if cell_len(text) <= width:
        return Fitted(set_cell_size(text, width), tuple(spans))
    if width == 1:
        return Fitted(ELLIPSIS)
    if cut_left:
        lo, hi = _keep_left(text, width - 1), len(text)
        shown, shift = ELLIPSIS + text[lo:], 1 - lo
    else:
        lo, hi = 0, _keep_right(text, width - 1)
        shown, shift = text[:hi] + ELLIPSIS, 0
    moved = tuple(
        (max(a, lo) + shift, min(b, hi) + shift) for a, b in spans if min(b, hi) > max(a, lo)
    )
    return Fitted(set_cell_size(shown, width), moved)


def pieces(cell: Fitted) -> list[tuple[str, bool]]:
    """The cell's text split into (text, highlighted) runs, in order."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for a, b in sorted(cell.spans):
        a = max(a, pos)
        if a >= b:
            continue
        if a > pos:
            out.append((cell.text[pos:a], False))
        out.append((cell.text[a:b], True))
        pos = b
    if pos < len(cell.text):
        out.append((cell.text[pos:], False))
    return out


class FittedLines:
    """A Rich renderable: lines of (text, style), each fitted to the width it is drawn at.

    Never wrapped: a line too wide is cut with an ellipsis (on the left with ``cut_left``, for
    qualified names and paths whose end matters most), so one entry is always as many lines
    high as it has lines, at every terminal width.
    """

    def __init__(self, *lines: tuple[str, str], cut_left: bool = False) -> None:
        self.lines = lines
        self.cut_left = cut_left

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Each line fitted to ``options.max_width`` cells."""
        for line, style in self.lines:
            indent = len(line) - len(line.lstrip(" "))
            body = fit(line[indent:], options.max_width - indent, cut_left=self.cut_left)
            yield Text(" " * indent + body.text.rstrip(" "), style=style, no_wrap=True)
