"""The runs dashboard: training runs with their status, loss and learning-rate curves (live while
a run writes its metrics.jsonl), eval report, and sample generations beside the references."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from corpus.text import show_controls
from tui.bars import format_value
from tui.runs import EvalReport, RunView, curves, find_runs
from tui.widgets.header import CorpusHeader

STATUS_STYLE = {"finished": "green", "running": "bold yellow", "stopped": "red"}


def _num(value: object, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else f"{value:,}"


def steps_text(run: RunView) -> str:
    """``40/100`` (done of configured), ``40`` or ``-``."""
    done = run.steps
    if done is None:
        return "-"
    return f"{done:,}/{run.max_steps:,}" if run.max_steps else f"{done:,}"


def run_row(run: RunView) -> tuple[Text, Text, str, str, str]:
    """The runs table's cells for ``run``."""
    headline = run.eval.headline() if run.eval else None
    metric = f"{headline[0]} {format_value(round(headline[1], 4))}" if headline else "-"
    status = Text(run.status, style=STATUS_STYLE.get(run.status, ""))
    return Text(show_controls(run.name)), status, steps_text(run), _num(run.best_eval_loss), metric


def run_info(run: RunView) -> Text:
    """One line of facts about ``run``: its summary when finished, else what is logged."""
    s = run.summary or {}
    parts = [f"{run.name}: {run.status}"]
    for key, label in (("train_loss", "train loss"), ("eval_loss", "eval loss")):
        if key in s:
            parts.append(f"{label} {_num(s[key])}")
    if isinstance(s.get("seconds"), int | float):
        parts.append(f"{s['seconds']:.0f} s")
    if isinstance(s.get("device"), str):
        parts.append(s["device"])
    model = run.config.get("model")
    if isinstance(model, str):
        parts.append(model)
    if run.tail.skipped:
        parts.append(f"{run.tail.skipped} unreadable metrics line(s) skipped")
    return Text(show_controls(" · ".join(parts)))


def _interval(iv: object) -> str:
    mean, lo, hi = (getattr(iv, k) for k in ("mean", "lo", "hi"))
    text = f"{mean:.3f}"
    return text + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else "")


def systems_table(rep: EvalReport) -> Table:
    """Systems x metrics (mean and confidence interval), the primary metric first."""
    names = list(dict.fromkeys(m for s in rep.systems for m in s.metrics))
    if rep.primary in names:
        names.remove(rep.primary)
        names.insert(0, rep.primary)
    table = Table(title="Systems", title_justify="left", show_lines=False)
    table.add_column("system")
    table.add_column("kind", style="dim")
    for m in names:
        table.add_column(f"{m} *" if m == rep.primary else m, justify="right")
    for s in rep.systems:
        cells = [_interval(s.metrics[m]) if m in s.metrics else "-" for m in names]
        table.add_row(Text(show_controls(s.name)), Text(show_controls(s.kind)), *cells)
    return table


def comparisons_table(rep: EvalReport) -> Table:
    """Paired comparisons: wins / ties / losses and the difference with its interval."""
    table = Table(title="Comparisons (a vs b)", title_justify="left")
    for col in ("a", "b", "metric", "wins", "ties", "losses", "diff [lo, hi]"):
        table.add_column(col, justify="right" if col in ("wins", "ties", "losses") else "left")
    for c in rep.comparisons:
        diff = _num(c.get("diff"), 3)
        if isinstance(c.get("lo"), int | float) and isinstance(c.get("hi"), int | float):
            diff += f" [{c['lo']:.3f}, {c['hi']:.3f}]"
        cells = [show_controls(str(c.get(k, "-"))) for k in ("a", "b", "metric")]
        counts = [_num(c.get(k)) for k in ("wins", "ties", "losses")]
        table.add_row(*(Text(x) for x in cells), *counts, diff)
    return table


def per_repo_table(rep: EvalReport) -> Table | None:
    """The primary metric per repository and system (None when the report has no such part)."""
    rows = rep.per_repo_primary()
    if not rows:
        return None
    systems = list(dict.fromkeys(name for per in rows.values() for name in per))
    table = Table(title=f"{rep.primary} per repository", title_justify="left")
    table.add_column("repo")
    for name in systems:
        table.add_column(show_controls(name), justify="right")
    for repo, per in rows.items():
        cells = [f"{per[n]:.3f}" if n in per else "-" for n in systems]
        table.add_row(Text(show_controls(repo)), *cells)
    return table


def eval_renderable(run: RunView) -> RenderableType:
    """The Eval tab: the report's header, systems, comparisons, and what could not be read."""
    rep = run.eval
    if rep is None:
        return Text(f"No eval/eval.json in {run.name} (the run has not been evaluated yet).")
    head = Text(
        f"split {rep.split or '?'} · {rep.n if rep.n is not None else '?'} records · "
        f"primary metric {rep.primary or '?'} (*)",
        style="bold",
    )
    parts: list[RenderableType] = [head]
    parts.append(systems_table(rep) if rep.systems else Text("(no systems)", style="dim"))
    if rep.comparisons:
        parts.append(comparisons_table(rep))
    repos = per_repo_table(rep)
    if repos is not None:
        parts.append(repos)
    if rep.problems:
        parts.append(Text("Skipped: " + "; ".join(rep.problems), style="yellow"))
    return Group(*parts)


def samples_renderable(run: RunView) -> RenderableType:
    """The Samples tab: each example's reference beside every system's output."""
    rep = run.eval
    if rep is None or not rep.examples:
        return Text("No sample generations (eval/eval.json has no examples).")
    systems = list(dict.fromkeys(name for e in rep.examples for name in e.outputs))
    parts: list[RenderableType] = []
    for e in rep.examples:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in e.scores.items())
        head = " · ".join(x for x in (e.pick, e.name or e.id[:16], e.repo, scores) if x)
        table = Table(
            title=show_controls(head),
            title_justify="left",
            expand=True,
            show_lines=False,
        )
        table.add_column("reference", ratio=1)
        for name in systems:
            table.add_column(show_controls(name), ratio=1)
        outputs = [Text(show_controls(e.outputs.get(name, "-"))) for name in systems]
        table.add_row(Text(show_controls(e.reference)), *outputs)
        parts.append(table)
    return Group(*parts)


def step_ticks(steps: list[int], n: int = 5) -> list[int]:
    """Up to ``n`` whole-number ticks from the first to the last step (steps are counts)."""
    lo, hi = min(steps), max(steps)
    if hi - lo < n:
        return list(range(lo, hi + 1))
    return sorted({round(lo + i * (hi - lo) / (n - 1)) for i in range(n)})


#: How a series' marker looks in the legend (a braille line, plotext's dot).
LEGEND_GLYPHS = {"braille": "⠤⠤", "dot": "••"}


def draw(plot: PlotextPlot, title: str, series: list[tuple[str, list, str]]) -> None:
    """Redraw ``plot`` with each (label, [(step, value)], marker) series against the step.

    The legend goes in the title line: plotext draws its own over the canvas's top-left
    corner, where a loss curve starts (its highest point).
    """
    plt = plot.plt
    plt.clear_figure()
    steps: list[int] = []
    legend = []
    for label, points, marker in series:
        if points:
            xs, ys = zip(*points, strict=True)
            plt.plot(xs, ys, marker=marker)
            steps += xs
            if label:
                legend.append(f"{LEGEND_GLYPHS.get(marker, marker)} {label}")
    plt.title("   ".join([title, *legend]) if steps else f"{title} (nothing logged yet)")
    plt.xlabel("step")
    if steps:
        ticks = step_ticks(steps)
        plt.xticks(ticks, [str(t) for t in ticks])
    plot.refresh()


class RunsScreen(Screen):
    """Every run under the runs folder; the selected run's curves, eval report and samples."""

    DEFAULT_CSS = """
    #runs { height: auto; max-height: 9; }
    #run-info { height: auto; padding: 0 1; color: $text-muted; }
    #run-tabs { height: 1fr; }
    #run-tabs TabPane { height: 1fr; padding: 0; }
    #curves { height: 1fr; }
    #no-runs { padding: 2 4; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "tab('tab-curves')", "Curves"),
        Binding("e", "tab('tab-eval')", "Eval"),
        Binding("g", "tab('tab-samples')", "Samples"),
        Binding("u", "poll", "Refresh"),
    ]

    def __init__(self, root: Path | None, *, refresh_s: float = 1.0) -> None:
        super().__init__()
        self.root = root
        self.refresh_s = refresh_s
        self.runs: dict[Path, RunView] = {}
        self._selected: Path | None = None

    def compose(self) -> ComposeResult:
        yield CorpusHeader("Runs", subject=self._subject())
        if self.root is None:
            yield Static(
                "No runs folder. Start with `corpus tui --runs DIR`, where DIR holds the run "
                "folders of `corpus train --out` (or is one).",
                id="no-runs",
                markup=False,
            )
            yield Footer()
            return
        yield DataTable(id="runs", cursor_type="row")
        yield Static(id="run-info", markup=False)
        with TabbedContent(id="run-tabs", initial="tab-curves"):
            with TabPane("Curves", id="tab-curves"), Horizontal(id="curves"):
                yield PlotextPlot(id="loss-plot")
                yield PlotextPlot(id="lr-plot")
            with TabPane("Eval report", id="tab-eval"), VerticalScroll():
                yield Static(id="eval-report")
            with TabPane("Samples", id="tab-samples"), VerticalScroll():
                yield Static(id="samples")
        yield Footer()

    def _subject(self) -> str:
        return self.root.name if self.root is not None else "no runs folder"

    def on_mount(self) -> None:
        if self.root is None:
            return
        table = self.query_one("#runs", DataTable)
        table.add_columns("Run", "Status", "Steps", "Best eval loss", "Eval")
        self.action_poll()
        table.focus()
        if self.refresh_s > 0:
            self.set_interval(self.refresh_s, self.action_poll)

    # -- data ---------------------------------------------------------------------------------

    def action_poll(self, now: float | None = None) -> None:
        """Look for new runs and read what every run appended; redraw what changed."""
        if self.root is None:
            return
        changed: list[Path] = []
        for path in find_runs(self.root):
            if path not in self.runs:
                self.runs[path] = RunView.open(path, self.root)
                changed.append(path)
            elif self.runs[path].refresh(now):
                changed.append(path)
        table = self.query_one("#runs", DataTable)
        for path in changed:
            cells = run_row(self.runs[path])
            key = str(path)
            if key in table.rows:
                for column, value in zip(table.columns, cells, strict=True):
                    table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key)
        if not self.runs:
            self.query_one("#run-info", Static).update(
                f"No training runs in {self.root} yet (a run folder holds metrics.jsonl); "
                "this screen looks again every second."
            )
        if self._selected is None and self.runs:
            self._select(next(iter(self.runs)))
        elif self._selected in changed:
            self._show(self.runs[self._selected])

    def _select(self, path: Path) -> None:
        self._selected = path
        self._show(self.runs[path])

    def _show(self, run: RunView) -> None:
        self.query_one("#run-info", Static).update(run_info(run))
        c = curves(run.tail.rows)
        loss = self.query_one("#loss-plot", PlotextPlot)
        series = [("train loss", c.train_loss, "braille"), ("eval loss", c.eval_loss, "dot")]
        draw(loss, "Loss", series)
        draw(self.query_one("#lr-plot", PlotextPlot), "Learning rate",
             [("", c.learning_rate, "braille")])  # fmt: skip
        self.query_one("#eval-report", Static).update(eval_renderable(run))
        self.query_one("#samples", Static).update(samples_renderable(run))

    # -- events -------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#runs")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            path = Path(event.row_key.value)
            if path in self.runs and path != self._selected:
                self._select(path)

    def action_tab(self, tab: str) -> None:
        self.query_one("#run-tabs", TabbedContent).active = tab
