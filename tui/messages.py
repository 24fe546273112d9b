"""Messages that workers post to the UI (worker threads never touch widgets directly)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    import polars as pl

    from tui.data import Corpus
    from tui.query import Filters, Sort


class CorpusLoaded(Message):
    """The dataset has been read and prepared."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        super().__init__()


class LoadFailed(Message):
    """The dataset could not be read: ``message`` says why and what to do."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__()


class Filtered(Message):
    """A filter run finished: ``frame`` holds the matching rows for ``filters``."""

    def __init__(
        self,
        generation: int,
        filters: Filters,
        frame: pl.DataFrame | None,
        error: str | None = None,
        *,
        sort: Sort | None = None,
    ) -> None:
        self.generation = generation
        self.filters = filters
        self.frame = frame
        self.error = error
        self.sort = sort
        super().__init__()
