"""The one-line header every screen shows: dataset, build and falsification score."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from tui.data import Corpus


def header_text(corpus: Corpus | None, screen_name: str, subject: str | None = None) -> Text:
    """The header line for ``corpus`` on the screen called ``screen_name``; a ``subject`` (the
    runs folder, on the runs screen) is shown instead of the dataset."""
    text = Text()
    text.append(" rustdoc-corpus ", style="bold")
    text.append(f"· {screen_name} ")
    if subject is not None:
        text.append("· ")
        text.append(subject, style="bold")
        return text
    if corpus is None:
        text.append("· loading…")
        return text
    # The folder name only: a full path varies per machine (and per snapshot run).
    text.append("· ")
    text.append(corpus.name, style="bold")
    text.append(f" · {corpus.frame.height:,} records")
    extractor = corpus.stats.get("extractor_version")
    if extractor:
        text.append(f" · extractor {extractor}")
    report = corpus.falsification
    if report is None:
        text.append(" · not falsified")
    else:
        style = {"PASS": "bold green", "WARN": "bold yellow"}.get(report.verdict, "bold red")
        text.append(" · score ")
        text.append(f"{report.score}/{report.max_score} {report.verdict}", style=style)
    return text


class CorpusHeader(Static):
    """Dataset name, record count, extractor version and falsification score."""

    DEFAULT_CSS = """
    CorpusHeader { height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, screen_name: str, *, subject: str | None = None) -> None:
        super().__init__(markup=False)
        self._screen_name = screen_name
        self._subject = subject

    def on_mount(self) -> None:
        self.show(getattr(self.app, "corpus", None))

    def show(self, corpus: Corpus | None) -> None:
        """Redraw the header for ``corpus`` (None while loading)."""
        self.update(header_text(corpus, self._screen_name, self._subject))
