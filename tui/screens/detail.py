"""The detail screen: one record's provenance, checks, signature, doc and source.

The doc is shown exactly as the corpus holds it (the training target, character for character,
control characters made visible, a row that goes on a line too long for the terminal marked
``↪``, as in the signature and source); `t` shows it as the ``///`` lines the model is trained
to write, `m` renders it as Markdown. `n` / `p` step through the list the record was opened from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Markdown, Static

from corpus.prompt import doc_as_comment
from corpus.text import dedent_item, show_controls
from tui.widgets.header import CorpusHeader
from tui.wrapped import MarkedLines, marked_code

if TYPE_CHECKING:
    from tui.data import Corpus

#: A fixed Pygments theme: the colours do not depend on the user's terminal (stable snapshots).
SYNTAX_THEME = "monokai"
#: Doc views: (key, section title). ``raw`` is the text as stored (the default).
DOC_VIEWS = {
    "raw": "Doc (exact text; t: as /// lines, m: as Markdown)",
    "comment": "Doc as the model is trained to write it (/// lines; t: exact text)",
    "markdown": "Doc rendered as Markdown (m: exact text)",
}


def provenance_table(record: dict[str, Any]) -> Table:
    """Where the record comes from, compactly; values are plain Text (never markup)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # a permalink or id is never cut short
    cluster = record.get("dup_cluster")
    role = "representative" if cluster in (None, record["id"]) else "duplicate"
    test = record.get("test_reason") or ("yes" if record["is_test"] else "no")
    rows = [
        ("Repo", f"{record['repo']} at {record['commit']}  ({record['license']})"),
        ("Path", f"{record['path']}:{record['start_line']}-{record['end_line']}"),
        ("Permalink", record["permalink"]),
        (
            "Build",
            f"split {record.get('split') or '-'} · dup cluster {cluster or '-'} ({role}) · "
            f"origin {record['origin']} · test {test}",
        ),
        ("Record id", record["id"]),
    ]
    for key, value in rows:
        table.add_row(key, Text(show_controls(str(value))))
    return table


def named_by_text(record: dict[str, Any], corpus: Corpus) -> Text:
    """Every falsification check that names this record, failed or passed."""
    report = corpus.falsification
    if report is None:
        return Text("No falsification.json beside this dataset.", style="dim")
    named = record.get("named_checks") or []
    if not named:
        text = Text("No check names this record.", style="green")
        silent = [c.id for c in report.failed if not c.offending_ids]
        if silent:
            text.append(
                f"  ({len(silent)} failed check(s) name no records: {', '.join(silent)})",
                style="dim",
            )
        return text
    text = Text()
    for i, cid in enumerate(named):
        check = report.check(cid)
        if i:
            text.append("\n")
        if check is None or not check.passed:
            text.append("✘ ", style="bold red")
            text.append(cid, style="bold")
            text.append("  failed", style="red")
        else:
            text.append("● ", style="yellow")
            text.append(cid, style="bold")
            text.append("  named by (passed)", style="yellow")
        if check is not None:
            text.append(f"  {check.category}, {check.points} pts, {check.severity}\n  ")
            text.append(show_controls(check.hypothesis), style="italic")
    return text


def doc_widget(doc: str | None, view: str) -> Widget:
    """The doc in the given view (see DOC_VIEWS)."""
    if not doc:
        return Static(Text("(no doc comment)", style="dim"), id="doc")
    if view == "markdown":
        # Parsed as Markdown only: console markup like [bold] stays literal.
        return Markdown(show_controls(doc), id="doc", open_links=False)
    text = doc_as_comment(doc) if view == "comment" else doc
    # Line for line, a wrap marked with ↪: a line break of the doc is never mistaken for one.
    return Static(MarkedLines(Text(show_controls(text))), id="doc", markup=False)


class DetailScreen(Screen):
    """One record in full; `c` copies its permalink, `escape` goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,h", "app.pop_screen", "Back"),
        Binding("n,right_square_bracket", "step(1)", "Next"),
        Binding("p,left_square_bracket", "step(-1)", "Previous"),
        Binding("t", "doc_view('comment')", "/// form"),
        Binding("m", "doc_view('markdown')", "Markdown"),
        Binding("c", "copy_permalink", "Copy permalink"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def __init__(
        self,
        record: dict[str, Any],
        corpus: Corpus,
        neighbour: Callable[[str, int], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.record = record
        self.doc_view = "raw"
        self._corpus = corpus
        self._neighbour = neighbour

    def compose(self) -> ComposeResult:
        rec = self.record
        yield CorpusHeader("Detail")
        with VerticalScroll(id="detail"):
            title = Text(show_controls(rec["qualified_path"]), style="bold")
            title.append(
                f"  {rec['container_kind']} · {rec.get('visibility') or 'private'}", style="dim"
            )
            yield Static(title, id="detail-title")
            yield Static("Provenance", classes="section")
            yield Static(provenance_table(rec), id="provenance")
            yield Static("Falsification", classes="section")
            yield Static(named_by_text(rec, self._corpus), id="named-by")
            yield Static("Signature", classes="section")
            yield Static(marked_code(show_controls(rec["signature"]), SYNTAX_THEME), id="signature")
            yield Static(DOC_VIEWS[self.doc_view], classes="section", id="doc-title", markup=False)
            yield doc_widget(rec.get("doc"), self.doc_view)
            yield Static("Source", classes="section")
            source = show_controls(dedent_item(rec["source"]))
            first = int(rec["start_line"])
            yield Static(marked_code(source, SYNTAX_THEME, first_number=first), id="source")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail", VerticalScroll).focus()

    def action_scroll(self, delta: int) -> None:
        self.query_one("#detail", VerticalScroll).scroll_relative(y=delta, animate=False)

    async def action_doc_view(self, view: str) -> None:
        """Show the doc in ``view``; asking for the view already shown goes back to raw."""
        self.doc_view = "raw" if self.doc_view == view else view
        await self.query_one("#doc").remove()
        title = self.query_one("#doc-title", Static)
        title.update(DOC_VIEWS[self.doc_view])
        await self.query_one("#detail", VerticalScroll).mount(
            doc_widget(self.record.get("doc"), self.doc_view), after=title
        )

    async def action_step(self, delta: int) -> None:
        """Show the next (1) or previous (-1) record of the list this one was opened from."""
        found = self._neighbour(self.record["id"], delta) if self._neighbour else None
        record = self._corpus.record(found) if found is not None else None
        if record is None:
            where = "last" if delta > 0 else "first"
            self.notify(f"This is the {where} record of the list.", markup=False)
            return
        self.record = record
        await self.recompose()
        self.query_one("#detail", VerticalScroll).focus()

    def action_copy_permalink(self) -> None:
        link = self.record["permalink"]
        self.app.copy_to_clipboard(link)
        self.notify(Text(link).plain, title="Permalink copied", markup=False)
