"""Horizontal bar charts as text: one labelled row per category with its value (no Textual).

Each category gets its own row at every width, so a label can never sit on another's bar and
no category can be dropped for lack of room (what plotext's bar charts did at 80 columns);
values are printed as counts, never as axis ticks like ``605.2``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len

from tui.cells import fit

#: Eighths of a cell, for bar ends finer than one character.
_EIGHTHS = " ▏▎▍▌▋▊▉"
_FULL = "█"
#: A label takes at most this share of the width (it is cut with an ellipsis beyond).
_LABEL_SHARE = 0.5


@dataclass(frozen=True)
class BarRow:
    """One row of a chart: label, bar and value, each padded to its column's width."""

    label: str
    bar: str
    value: str


def format_value(value: float) -> str:
    """``1234`` -> ``1,234``; ``0.5`` -> ``0.5``; ``1234.567`` -> ``1,234.57``."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.3g}"


def bar(value: float, maximum: float, width: int) -> str:
    """A bar ``value / maximum`` of ``width`` cells long, in eighths; a non-zero value is never
    drawn as nothing."""
    if width <= 0 or maximum <= 0 or value <= 0:
        return " " * max(width, 0)
    eighths = round(8 * width * min(value / maximum, 1.0))
    eighths = max(eighths, 1)
    full, rest = divmod(eighths, 8)
    text = _FULL * full + (_EIGHTHS[rest] if rest else "")
    return text.ljust(width)


def bar_rows(rows: list[tuple[str, float]], width: int) -> list[BarRow]:
    """The rows of a chart ``width`` cells wide: ``label bar value`` with one space between."""
    if not rows:
        return []
    values = [format_value(v) for _, v in rows]
    value_w = max(len(v) for v in values)
    label_w = min(max(cell_len(label) for label, _ in rows), max(int(width * _LABEL_SHARE), 4))
    bar_w = max(width - label_w - value_w - 2, 1)
    top = max(v for _, v in rows)
    return [
        BarRow(fit(label, label_w).text, bar(v, top, bar_w), text.rjust(value_w))
        for (label, v), text in zip(rows, values, strict=True)
    ]
