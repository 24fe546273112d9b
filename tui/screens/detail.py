"""The detail screen: one record's signature, source, doc, provenance and failed checks."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static

from corpus.text import dedent_item
from tui.data import Corpus
from tui.widgets.header import CorpusHeader

#: A fixed Pygments theme: the colours do not depend on the user's terminal (stable snapshots).
SYNTAX_THEME = "monokai"


def provenance_table(record: dict[str, Any]) -> Table:
    """Where the record comes from, one field a row; values are plain Text (never markup)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    is_rep = record.get("dup_cluster") in (None, record["id"])
    rows = [
        ("Permalink", record["permalink"]),
        ("Repo", record["repo"]),
        ("Commit", record["commit"]),
        ("Path", f"{record['path']}:{record['start_line']}-{record['end_line']}"),
        ("Licence", record["license"]),
        ("Split", record.get("split") or "-"),
        (
            "Dup cluster",
            f"{record.get('dup_cluster') or '-'}"
            + ("  (representative)" if is_rep else "  (duplicate)"),
        ),
        ("Origin", record["origin"]),
        ("Test", record.get("test_reason") or ("yes" if record["is_test"] else "no")),
        ("Record id", record["id"]),
    ]
    for key, value in rows:
        table.add_row(key, Text(str(value)))
    return table


def failed_checks_text(record: dict[str, Any], corpus: Corpus) -> Text:
    """The falsification checks naming this record as offending."""
    report = corpus.falsification
    if report is None:
        return Text("No falsification.json beside this dataset.", style="dim")
    ids = record.get("failed_checks") or []
    if not ids:
        return Text("Passes every check that names records.", style="green")
    text = Text()
    for i, cid in enumerate(ids):
        check = report.check(cid)
        if i:
            text.append("\n")
        text.append("✘ ", style="bold red")
        text.append(cid, style="bold")
        if check is not None:
            text.append(f"  ({check.category}, {check.points} pts, {check.severity})\n  ")
            text.append(check.hypothesis)
    return text


class DetailScreen(Screen):
    """One record in full; `c` copies its permalink, `escape` goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,h", "app.pop_screen", "Back"),
        Binding("c", "copy_permalink", "Copy permalink"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, record: dict[str, Any], corpus: Corpus) -> None:
        super().__init__()
        self.record = record
        self._corpus = corpus

    def compose(self) -> ComposeResult:
        rec = self.record
        yield CorpusHeader("Detail")
        with VerticalScroll(id="detail"):
            title = Text(rec["qualified_path"], style="bold")
            title.append(
                f"  {rec['container_kind']} · {rec.get('visibility') or 'private'}", style="dim"
            )
            yield Static(title, id="detail-title")
            yield Static("Signature", classes="section")
            yield Static(
                Syntax(rec["signature"], "rust", theme=SYNTAX_THEME, word_wrap=True),
                id="signature",
            )
            yield Static("Doc", classes="section")
            doc = rec.get("doc")
            if doc:
                # Markdown, parsed as Markdown only: console markup like [bold] stays literal.
                yield Markdown(doc, id="doc", open_links=False)
            else:
                yield Static(Text("(no doc comment)", style="dim"), id="doc")
            yield Static("Source", classes="section")
            yield Static(
                Syntax(
                    dedent_item(rec["source"]),
                    "rust",
                    theme=SYNTAX_THEME,
                    line_numbers=True,
                    start_line=int(rec["start_line"]),
                    word_wrap=False,
                ),
                id="source",
            )
            yield Static("Provenance", classes="section")
            yield Static(provenance_table(rec), id="provenance")
            yield Static("Falsification", classes="section")
            yield Static(failed_checks_text(rec, self._corpus), id="failed-checks")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail", VerticalScroll).focus()

    def action_scroll(self, delta: int) -> None:
        self.query_one("#detail", VerticalScroll).scroll_relative(y=delta, animate=False)

    def action_copy_permalink(self) -> None:
        link = self.record["permalink"]
        self.app.copy_to_clipboard(link)
        self.notify(Text(link).plain, title="Permalink copied", markup=False)
