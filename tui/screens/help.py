"""The help screen: every key binding and the Flags column legend."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.columns import FLAG_LEGEND
from tui.keys import KEYS


def help_table() -> Table:
    """Keys grouped by screen, then the flag letters."""
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("Screen", style="dim")
    table.add_column("Keys", style="bold")
    table.add_column("Does")
    for screen, keys, does in KEYS:
        table.add_row(screen, Text(keys), Text(does))
    table.add_row("", "", "")
    for letter, meaning in FLAG_LEGEND:
        table.add_row("Flags", Text(letter), Text(meaning))
    return table


class HelpScreen(ModalScreen[None]):
    """Modal list of keys; any of escape, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("Keys", style="bold"), id="help-title")
            yield Static(help_table())

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
