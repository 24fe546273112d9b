"""The stats screen: per-repo, per-kind, split, doc-length, section and filter counts.

Each chart draws one labelled row per category with its count, at every terminal size.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from corpus.summary import Summary, summarise
from corpus.text import show_controls
from tui.bars import bar_rows
from tui.widgets.header import CorpusHeader

#: Below this width the charts stack in one column.
TWO_COLUMNS_AT = 90


class BarChart(Widget):
    """A titled chart: ``label ███▌ value`` per category, scaled to the widget's width."""

    DEFAULT_CSS = """
    BarChart { height: auto; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"bar-chart--bar", "bar-chart--title"}

    def __init__(self, title: str, rows: list[tuple[str, float]], *, id: str) -> None:
        super().__init__(id=id)
        self.title = title
        self.rows = rows

    def render(self) -> Text:
        width = max(self.content_size.width, 8)
        out = Text(self.title + "\n", style="bold")
        if not self.rows:
            out.append("(none)", style="dim")
            return out
        bar_style = self.get_component_rich_style("bar-chart--bar", partial=True)
        for i, row in enumerate(bar_rows(self.rows, width)):
            if i:
                out.append("\n")
            out.append(show_controls(row.label) + " ")
            out.append(row.bar, style=bar_style)
            out.append(" " + row.value)
        return out


def charts(summary: Summary) -> list[BarChart]:
    """The stats screen's charts for ``summary`` (tokens only when stats.json has them)."""
    documented = f"{summary.documented:,} documented"
    out = [
        BarChart("Records per repo", summary.per_repo, id="chart-repos"),
        BarChart("Records per container kind", summary.per_kind, id="chart-kinds"),
        BarChart("Split sizes", summary.per_split, id="chart-splits"),
        BarChart(f"Doc length in characters ({documented})", summary.doc_lengths, id="chart-docs"),
        BarChart("Doc sections", summary.per_section, id="chart-sections"),
        BarChart(
            "Filters (records dropped or redacted, stats.json)", summary.filters, id="chart-filters"
        ),
    ]
    if summary.tokens:
        out.append(BarChart("Tokens (stats.json)", summary.tokens, id="chart-tokens"))
    return out


class StatsScreen(Screen):
    """Counts of the loaded corpus as labelled bar charts."""

    DEFAULT_CSS = """
    #stats-scroll { padding: 0 1; }
    #stats-grid { grid-size: 2; grid-gutter: 1 3; grid-rows: auto; height: auto; }
    #stats-grid.narrow { grid-size: 1; }
    BarChart > .bar-chart--bar { color: $accent; }
    """

    def compose(self) -> ComposeResult:
        yield CorpusHeader("Stats")
        corpus = getattr(self.app, "corpus", None)
        with VerticalScroll(id="stats-scroll"), Grid(id="stats-grid"):
            if corpus is not None:
                yield from charts(summarise(corpus.frame, corpus.stats))
        yield Footer()

    def on_mount(self) -> None:
        self._fit(self.app.size.width)
        self.query_one("#stats-scroll").focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        self.query_one("#stats-grid").set_class(width < TWO_COLUMNS_AT, "narrow")
