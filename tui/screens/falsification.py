"""The falsification screen: the 100-point report by category; drill into a failed check."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from falsification.report import CheckResult
from tui.data import Corpus
from tui.widgets.header import CorpusHeader

_MAX_LISTED = 500  # offending records listed per check; the records screen filter shows all


def _bar(score: int, maximum: int, width: int = 20) -> Text:
    filled = round(width * score / maximum) if maximum else 0
    style = "green" if score == maximum else ("yellow" if score * 2 >= maximum else "red")
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")


class FalsificationScreen(Screen):
    """Categories with their scores, every check, and the offending records of the selected."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "show_in_records", "Filter records"),
        Binding("tab", "app.focus_next", "Next pane", show=False),
    ]

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
                yield Static("Offending records (enter opens one)", id="offenders-title")
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
        checks.add_columns("", "Check", "Points", "Offending")
        # Failed checks first: they are what this screen is for.
        ordered = sorted(report.checks, key=lambda c: (c.passed, c.category, c.id))
        for check in ordered:
            mark = Text("✔", style="green") if check.passed else Text("✘", style="bold red")
            checks.add_row(
                mark,
                Text(check.id),
                f"{check.awarded}/{check.points}",
                str(len(check.offending_ids)),
                key=check.id,
            )
        checks.focus()
        if ordered:
            self._show_check(ordered[0])

    def _selected_check(self) -> CheckResult | None:
        corpus: Corpus | None = getattr(self.app, "corpus", None)
        table = self.query_one("#checks", DataTable)
        if corpus is None or corpus.falsification is None or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return corpus.falsification.check(str(key))

    def _show_check(self, check: CheckResult) -> None:
        corpus: Corpus = self.app.corpus  # type: ignore[attr-defined]
        detail = Text()
        detail.append(check.id, style="bold")
        status = ("passed", "green") if check.passed else ("FAILED", "bold red")
        detail.append("  ")
        detail.append(status[0], style=status[1])
        detail.append(f"  {check.awarded}/{check.points} pts · {check.severity}\n")
        detail.append(check.hypothesis + "\n", style="italic")
        detail.append(check.evidence, style="dim")
        self.query_one("#check-detail", Static).update(detail)
        offenders = self.query_one("#offenders", OptionList)
        offenders.clear_options()
        ids = check.offending_ids[:_MAX_LISTED]
        if not ids:
            return
        frame = corpus.frame
        import polars as pl

        rows = frame.filter(pl.col("id").is_in(list(ids))).select(
            "id", "qualified_path", "location"
        )
        known = {r[0]: r for r in rows.iter_rows()}
        options = []
        for rid in ids:
            if rid in known:
                _, qp, loc = known[rid]
                options.append(Option(Text(f"{qp}  {loc}"), id=rid))
            else:
                options.append(
                    Option(Text(f"{rid[:16]}…  (not in this dataset)"), id=rid, disabled=True)
                )
        offenders.add_options(options)

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

    @on(OptionList.OptionSelected, "#offenders")
    def _offender_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_record(event.option.id)  # type: ignore[attr-defined]

    def action_show_in_records(self) -> None:
        check = self._selected_check()
        if check is not None and not check.passed:
            self.app.show_check_in_records(check.id)  # type: ignore[attr-defined]
