"""The one-line header every screen shows: screen, falsification score, dataset and build.

The screen's name and the score with its verdict always show; what does not fit the terminal's
width goes first: the extractor version, then the app's name, then the record count (the
dataset's name is cut short last, with an ellipsis).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from tui.data import Corpus

#: A part of the header: its text, style, and the order in which parts give way (0: never).
_Part = tuple[str, str, int]
_SEP = " · "


def _parts(corpus: Corpus | None, screen_name: str, subject: str | None) -> list[_Part]:
    parts: list[_Part] = [("rustdoc-corpus", "bold", 2), (screen_name, "", 0)]
    if subject is not None:
        return [*parts, (subject, "bold", 0)]
    if corpus is None:
        return [*parts, ("loading…", "", 0)]
    report = corpus.falsification
    if report is None:
        parts.append(("not falsified", "", 0))
    else:
        style = {"PASS": "bold green", "WARN": "bold yellow"}.get(report.verdict, "bold red")
        parts.append((f"score {report.score}/{report.max_score} {report.verdict}", style, 0))
    # The folder name only: a full path varies per machine (and per snapshot run).
    parts.append((corpus.name, "bold", 0))
    parts.append((f"{corpus.frame.height:,} records", "", 3))
    extractor = corpus.stats.get("extractor_version")
    if extractor:
        parts.append((f"extractor {extractor}", "", 1))
    return parts


def _length(parts: list[_Part]) -> int:
    return 1 + sum(cell_len(p[0]) for p in parts) + cell_len(_SEP) * (len(parts) - 1)


def header_text(
    corpus: Corpus | None,
    screen_name: str,
    subject: str | None = None,
    *,
    width: int | None = None,
) -> Text:
    """The header line for ``corpus`` on the screen called ``screen_name``, fitted to ``width``
    cells (None: everything); a ``subject`` (the runs folder, on the runs screen) is shown
    instead of the dataset."""
    parts = _parts(corpus, screen_name, subject)
    if width is not None:
        for rank in (1, 2, 3):
            if _length(parts) <= width:
                break
            parts = [p for p in parts if p[2] != rank]
    text = Text(" ")
    for i, (part, style, _) in enumerate(parts):
        if i:
            text.append(_SEP)
        text.append(part, style=style)
    if width is not None and text.cell_len > width:
        # Only the dataset's name (or the runs folder) can still be too long: cut it short.
        text.truncate(width, overflow="ellipsis")
    return text


class CorpusHeader(Widget):
    """Screen name, falsification score, dataset name, record count and extractor version."""

    DEFAULT_CSS = """
    CorpusHeader { height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, screen_name: str, *, subject: str | None = None) -> None:
        super().__init__()
        self._screen_name = screen_name
        self._subject = subject
        self._corpus: Corpus | None = None

    def on_mount(self) -> None:
        self.show(getattr(self.app, "corpus", None))

    def show(self, corpus: Corpus | None) -> None:
        """Redraw the header for ``corpus`` (None while loading)."""
        self._corpus = corpus
        self.refresh()

    def render(self) -> Text:
        """The header fitted to the widget's width (drawn again when the terminal resizes)."""
        return header_text(self._corpus, self._screen_name, self._subject, width=self.size.width)
