"""A full screen that explains why there is nothing to browse (bad path, corrupt or empty)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Footer, Static


class MessageScreen(Screen):
    """A titled message in the middle of the screen; ``q`` quits."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self._title = title
        self._message = message

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            # Text, not markup: the message may quote file contents.
            yield Static(Text(self._title, style="bold"), id="message-title")
            yield Static(Text(self._message), id="message-body")
            yield Static(Text("Press q to quit."), id="message-hint")
        yield Footer()
