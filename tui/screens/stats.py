"""The stats screen: per-repo, per-kind, doc-length and split counts as terminal plots."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer
from textual_plotext import PlotextPlot

from tui.summary import Summary, summarise
from tui.widgets.header import CorpusHeader


class CountsPlot(PlotextPlot):
    """A bar chart of (label, count) pairs."""

    def __init__(
        self, title: str, counts: list[tuple[str, int]], *, horizontal: bool, id: str
    ) -> None:
        super().__init__(id=id)
        self._title = title
        self._counts = counts
        self._horizontal = horizontal

    def on_mount(self) -> None:
        plt = self.plt
        labels = [k for k, _ in self._counts] or ["(none)"]
        values = [v for _, v in self._counts] or [0]
        if self._horizontal:
            # plotext draws the first bar at the bottom: reverse so the biggest is on top.
            plt.bar(labels[::-1], values[::-1], orientation="horizontal", width=0.6)
        else:
            plt.bar(labels, values, width=0.6)
        plt.title(self._title)


class StatsScreen(Screen):
    """Counts of the loaded corpus as plots."""

    def compose(self) -> ComposeResult:
        yield CorpusHeader("Stats")
        corpus = getattr(self.app, "corpus", None)
        summary: Summary | None = summarise(corpus.frame) if corpus is not None else None
        with Grid(id="stats-grid"):
            if summary is not None:
                documented = f"{summary.documented:,} of {summary.records:,} documented"
                yield CountsPlot(
                    "Records per repo", summary.per_repo, horizontal=True, id="plot-repos"
                )
                yield CountsPlot(
                    "Records per container kind", summary.per_kind, horizontal=True, id="plot-kinds"
                )
                yield CountsPlot(
                    f"Doc length, characters ({documented})",
                    summary.doc_lengths,
                    horizontal=False,
                    id="plot-doc-lengths",
                )
                yield CountsPlot(
                    "Split sizes", summary.per_split, horizontal=False, id="plot-splits"
                )
        yield Footer()
