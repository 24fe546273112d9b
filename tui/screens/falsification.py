"""The falsification screen: the 100-point report by category; drill into any check's records.

A check can name records whether it failed or passed (a threshold check passes with its few
offenders listed): the list shows them either way, and `r` shows them on the records screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from corpus.text import show_controls
from tui.cells import FittedLines
from tui.widgets.header import CorpusHeader

if TYPE_CHECKING:
    from falsification.report import CheckResult
    from tui.data import Corpus

_MAX_LISTED = 500  # offending records listed per check; the records screen filter shows all


def _bar(score: int, maximum: int, width: int = 12) -> Text:
    filled = round(width * score / maximum) if maximum else 0
    style = "green" if score == maximum else ("yellow" if score * 2 >= maximum else "red")
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")


def offenders_title(check: CheckResult) -> str:
    """What the list under a check holds, and the keys that use it."""
    n = len(dict.fromkeys(check.offending_ids))
    if n == 0:
        return "It names no records"
    shown = f", first {_MAX_LISTED} listed" if n > _MAX_LISTED else ""
    what = "named, within its threshold" if check.passed else "offending"
    return f"{n:,} {what}{shown} · enter: open · r: in Records"


def check_detail(check: CheckResult) -> Text:
    """The check's id, verdict, points, hypothesis and evidence (corpus text made visible)."""
    detail = Text()
    detail.append(check.id, style="bold")
    status = ("passed", "green") if check.passed else ("FAILED", "bold red")
    detail.append("  ")
    detail.append(status[0], style=status[1])
    detail.append(f"  {check.awarded}/{check.points} pts · {check.severity}\n")
    detail.append(show_controls(check.hypothesis) + "\n", style="italic")
    detail.append(show_controls(check.evidence), style="dim")
    return detail


class FalsificationScreen(Screen):
    """Categories with their scores, every check, and the records the selected one names."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "show_in_records", "Show in records"),
        Binding("tab", "app.focus_next", "Next pane", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown: str | None = None  # the check whose records the list holds

    def compose(self) -> ComposeResult:
        yield CorpusHeader("Falsification")
        corpus: Corpus | None = getattr(self.app, "corpus", None)
        report = corpus.falsification if corpus else None
        if report is None:
            yield Static(
                Text(
                    "No falsification.json beside this dataset.\n"
                    "Run `corpus falsify DATASET` to write one."
                ),
                id="no-report",
            )
            yield Footer()
            return
        with Horizontal():
            with Vertical(id="fals-left"):
                yield DataTable(id="categories", cursor_type="none", zebra_stripes=False)
                yield DataTable(id="checks", cursor_type="row")
            with Vertical(id="fals-right"):
                yield Static(id="check-detail", markup=False)
                yield Static("", id="offenders-title", markup=False)
                yield OptionList(id="offenders")
        yield Footer()

    def on_mount(self) -> None:
        corpus: Corpus | None = getattr(self.app, "corpus", None)
        report = corpus.falsification if corpus else None
        if report is None:
            return
        cats = self.query_one("#categories", DataTable)
        cats.add_columns("Category", "Score", "")
        for name, sums in report.categories.items():
            cats.add_row(name, f"{sums['score']}/{sums['max']}", _bar(sums["score"], sums["max"]))
        total = Text(f"{report.score}/{report.max_score} {report.verdict}", style="bold")
        cats.add_row(Text("total", style="bold"), total, Text(""))
        checks = self.query_one("#checks", DataTable)
        checks.add_columns("", "Check", "Pts", "Records")
        # Failed checks first, then passed checks that name records: what this screen is for.
        ordered = sorted(
            report.checks, key=lambda c: (c.passed, not c.offending_ids, c.category, c.id)
        )
        for check in ordered:
            mark = Text("✔", style="green") if check.passed else Text("✘", style="bold red")
            checks.add_row(
                mark,
                Text(check.id),
                f"{check.awarded}/{check.points}",
                str(len(dict.fromkeys(check.offending_ids))),
                key=check.id,
            )
        checks.focus()
        if ordered:
            self._show_check(ordered[0])

    def on_screen_resume(self) -> None:
        # Back from a record (or another mode): the list must show the selected check's records
        # again, whatever happened to the widgets meanwhile.
        check = self._selected_check()
        if check is not None:
            self._show_check(check, force=True)

    def _selected_check(self) -> CheckResult | None:
        corpus: Corpus | None = getattr(self.app, "corpus", None)
        if corpus is None or corpus.falsification is None:
            return None
        table = self.query_one("#checks", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return corpus.falsification.check(str(key))

    def _show_check(self, check: CheckResult, *, force: bool = False) -> None:
        self.query_one("#check-detail", Static).update(check_detail(check))
        self.query_one("#offenders-title", Static).update(offenders_title(check))
        offenders = self.query_one("#offenders", OptionList)
        if self._shown == check.id and offenders.option_count and not force:
            return
        self._shown = check.id
        highlighted = offenders.highlighted if force else None
        offenders.clear_options()
        offenders.add_options(self._options(check))
        if highlighted is not None and highlighted < offenders.option_count:
            offenders.highlighted = highlighted

    def _options(self, check: CheckResult) -> list[Option]:
        import polars as pl

        corpus: Corpus = self.app.corpus  # type: ignore[attr-defined]
        ids = list(dict.fromkeys(check.offending_ids))[:_MAX_LISTED]
        if not ids:
            return []
        rows = corpus.frame.filter(pl.col("id").is_in(ids)).select(
            "id", "qualified_path", "location"
        )
        known = {r[0]: r for r in rows.iter_rows()}
        options = []
        for rid in ids:
            if rid in known:
                _, qp, loc = known[rid]
                # One line each, cut on the left (never wrapped mid-name): at 80 columns the
                # list still shows several records.
                lines = ((show_controls(qp), ""), ("  " + show_controls(loc), "dim"))
                options.append(Option(FittedLines(*lines, cut_left=True), id=rid))
            else:
                missing = (f"{rid[:16]}…  (not in this dataset)", "")
                options.append(Option(FittedLines(missing, cut_left=True), id=rid, disabled=True))
        return options

    def neighbour(self, row_id: str, delta: int) -> str | None:
        """The record ``delta`` places from ``row_id`` in the offenders list (skipping ids that
        are not in the dataset); the list's highlight follows."""
        offenders = self.query_one("#offenders", OptionList)
        ids = [offenders.get_option_at_index(i) for i in range(offenders.option_count)]
        index = next((i for i, o in enumerate(ids) if o.id == row_id), None)
        if index is None:
            return None
        i = index + delta
        while 0 <= i < len(ids) and ids[i].disabled:
            i += delta
        if not 0 <= i < len(ids):
            return None
        offenders.highlighted = i
        return ids[i].id

    @on(DataTable.RowHighlighted, "#checks")
    def _check_highlighted(self) -> None:
        check = self._selected_check()
        if check is not None:
            self._show_check(check)

    @on(DataTable.RowSelected, "#checks")
    def _check_selected(self) -> None:
        offenders = self.query_one("#offenders", OptionList)
        if offenders.option_count:
            offenders.focus()
            offenders.highlighted = 0

    @on(events.DescendantFocus, "#offenders")
    def _offenders_focused(self) -> None:
        # Tab lands on the list with nothing highlighted (it was just filled): highlight its
        # first record, so that enter opens one; a highlight it already has stays.
        offenders = self.query_one("#offenders", OptionList)
        if offenders.highlighted is None:
            enabled = (i for i, o in enumerate(offenders.options) if not o.disabled)
            offenders.highlighted = next(enabled, None)

    @on(OptionList.OptionSelected, "#offenders")
    def _offender_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_record(event.option.id, self.neighbour)  # type: ignore[attr-defined]

    def action_show_in_records(self) -> None:
        """Show the selected check's records (failed or passed) on the records screen."""
        check = self._selected_check()
        if check is None:
            return
        if not check.offending_ids:
            self.notify(f"{check.id} names no records.", markup=False)
            return
        self.app.show_check_in_records(check.id)  # type: ignore[attr-defined]
