"""The training runs dashboard: following metrics.jsonl, run status, reading eval.json
defensively (plain logic), and the Runs screen under Pilot (list, curves, live refresh, eval
report, samples beside references)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot
from typer.testing import CliRunner

from corpus.cli import app as cli_app
from corpus.errors import ExitCode
from tests.runs_fixtures import CONTROL_OUTPUT, eval_report, make_runs, train_rows, write_metrics
from tests.tui_fixtures import make_tui_dataset, run_async, screen_lines, shown
from tui.app import CorpusApp
from tui.runs import STALE_S, MetricsTail, RunView, curves, find_runs, parse_eval, run_status
from tui.screens.records import RecordsScreen
from tui.screens.runs import RunsScreen

SIZE = (120, 34)

# -- following metrics.jsonl ----------------------------------------------------------------


def test_tail_reads_only_appended_lines_and_waits_for_a_whole_line(tmp_path: Path) -> None:
    path = write_metrics(tmp_path, train_rows(1, 3, eval_every=2))
    tail = MetricsTail(path)
    assert tail.poll() and [r["step"] for r in tail.rows] == [1, 2, 2, 3]
    assert not tail.poll()  # nothing new
    with path.open("a") as f:
        f.write(json.dumps({"step": 4, "loss": 1.0}) + "\n" + '{"step": 5, "lo')
    assert tail.poll()
    assert [r["step"] for r in tail.rows] == [1, 2, 2, 3, 4]  # step 5 is not complete yet
    with path.open("a") as f:
        f.write('ss": 0.9}\nnot json\n[1]\n{"loss": 2}\n')
    tail.poll()
    assert tail.rows[-1] == {"step": 5, "loss": 0.9}
    assert tail.skipped == 3  # not JSON, not an object, no step


def test_tail_starts_again_when_the_file_is_rewritten(tmp_path: Path) -> None:
    path = write_metrics(tmp_path, train_rows(1, 10))
    tail = MetricsTail(path)
    tail.poll()
    write_metrics(tmp_path, train_rows(1, 2))  # a fresh run in the same folder
    assert tail.poll()
    assert [r["step"] for r in tail.rows] == [1, 2]


def test_a_resumed_run_replaces_the_steps_it_replays(tmp_path: Path) -> None:
    # Killed at step 12, resumed from the checkpoint at 10: steps 11-12 are logged again.
    rows = [*train_rows(1, 12, eval_every=5), *train_rows(11, 14, eval_every=5)]
    tail = MetricsTail(write_metrics(tmp_path, rows))
    tail.poll()
    c = curves(tail.rows)
    assert [s for s, _ in c.train_loss] == list(range(1, 15))
    assert [s for s, _ in c.eval_loss] == [5, 10]
    assert [s for s, _ in c.learning_rate] == list(range(1, 15))


def test_status_rule(tmp_path: Path) -> None:
    now = time.time()
    runs = make_runs(tmp_path, now=now)
    assert run_status(runs / "small", {"steps": 20}, now) == "finished"
    assert run_status(runs / "tiny", None, now) == "running"
    assert run_status(runs / "tiny", None, now + STALE_S + 1) == "stopped"
    assert run_status(runs / "ablate" / "r8", None, now) == "stopped"
    assert [p.relative_to(runs).as_posix() for p in find_runs(runs)] == [
        "ablate/r8",
        "small",
        "tiny",
    ]
    assert find_runs(runs / "small") == [runs / "small"]  # a run folder itself
    assert find_runs(tmp_path / "nope") == []


def test_run_view_reads_summary_config_and_eval(tmp_path: Path) -> None:
    runs = make_runs(tmp_path)
    small = RunView.open(runs / "small", runs)
    assert (small.status, small.steps, small.max_steps) == ("finished", 20, 20)
    assert small.best_eval_loss == min(v for _, v in curves(small.tail.rows).eval_loss)
    assert small.eval is not None and small.eval.headline() == ("rougeL", 0.314)
    tiny = RunView.open(runs / "tiny", runs)
    assert (tiny.status, tiny.steps, tiny.max_steps, tiny.best_eval_loss) == (
        "running",
        8,
        50,
        None,
    )
    assert tiny.eval is None


def test_eval_report_is_read_defensively() -> None:
    rep = parse_eval(eval_report())
    assert [s.name for s in rep.systems] == ["base", "adapter"]
    assert rep.systems[1].metrics["rougeL"].lo == 0.301
    assert len(rep.examples) == 2 and rep.problems == ["examples[2] (no reference text)"]
    first = rep.examples[0]
    assert (first.name, first.pick, first.scores) == (
        "tokio::runtime::Builder::new",
        "best",
        {"base": 0.4, "adapter": 0.8},
    )
    assert rep.per_repo_primary() == {"tokio-rs/tokio": {"adapter": 0.33}}
    broken = parse_eval(
        {"systems": [{"kind": "x"}, {"name": "b", "metrics": {"m": "high", "n": 0.5}}],
         "comparisons": ["x"], "examples": [{"reference": 3}], "per_repo": [1]}
    )  # fmt: skip
    assert [s.name for s in broken.systems] == ["b"]
    assert list(broken.systems[0].metrics) == ["n"]
    assert broken.primary is None and broken.headline() is None and broken.examples == []
    assert len(broken.problems) == 3 and broken.per_repo_primary() == {}
    assert parse_eval({}).systems == []


# -- the screen -----------------------------------------------------------------------------


def runs_table(app: CorpusApp) -> DataTable:
    return app.screen.query_one("#runs", DataTable)


def cell(app: CorpusApp, run: str, column: int) -> str:
    table = runs_table(app)
    key = str(Path(app.runs_dir or "") / run)
    return str(table.get_row(key)[column])


@run_async
async def test_runs_screen_lists_runs_with_status_steps_and_eval(tmp_path: Path) -> None:
    runs = make_runs(tmp_path / "runs")
    app = CorpusApp(None, runs=runs, cursor_blink=False, refresh_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert runs_table(app).row_count == 3
        assert [cell(app, r, 1) for r in ("ablate/r8", "small", "tiny")] == [
            "stopped",
            "finished",
            "running",
        ]
        assert cell(app, "small", 2) == "20/20" and cell(app, "tiny", 2) == "8/50"
        assert cell(app, "small", 3) == "1.4000" and cell(app, "small", 4) == "rougeL 0.314"
        assert "rustdoc-corpus · Runs · runs" in shown(app)
        await pilot.press("down")  # -> small
        await pilot.pause()
        info = str(app.screen.query_one("#run-info", Static).render())
        assert "small: finished" in info and "eval loss 1.4000" in info and "cuda" in info
        await pilot.press("e")
        await pilot.pause()
        shot = shown(app)
        assert "rougeL *" in shot and "0.314 [0.301, 0.327]" in shot and "201" in shot
        assert "examples[2] (no reference text)" in shot
        await pilot.press("g")
        await pilot.pause()
        shot = shown(app)
        assert "/// Creates a new runtime builder." in shot  # the reference...
        assert "/// Creates a new `Builder`." in shot  # ...beside the adapter's output
        assert CONTROL_OUTPUT not in shot and "␛[1mbold␛[0m" in shot
        await pilot.press("1")  # no dataset: a notice, the runs screen stays
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)


@run_async
async def test_the_legend_hides_no_data_point(tmp_path: Path) -> None:
    runs = make_runs(tmp_path / "runs")
    app = CorpusApp(None, runs=runs, cursor_blink=False, refresh_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down")  # -> small: train loss falls from its first step on
        await pilot.pause()
        region = app.screen.query_one("#loss-plot", PlotextPlot).region
        rows = [r[region.x : region.right] for r in screen_lines(app)[region.y : region.bottom]]
        frame = next(i for i, r in enumerate(rows) if "┌" in r)
        # The legend names both series above the frame, not inside it over the curves.
        assert "train loss" in "".join(rows[:frame]) and "eval loss" in "".join(rows[:frame])
        inside = "".join(rows[frame:])
        assert "train loss" not in inside and "eval loss" not in inside
        top = rows[frame + 1]  # the highest loss, at the first step: drawn at the top left
        assert top[top.index("┤") + 1] != " ", "\n".join(rows)


@run_async
async def test_curves_refresh_live_while_a_run_writes(tmp_path: Path) -> None:
    runs = make_runs(tmp_path / "runs")
    app = CorpusApp(None, runs=runs, cursor_blink=False, refresh_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "down")  # -> tiny, the running one
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        tiny = screen.runs[runs / "tiny"]
        assert [s for s, _ in curves(tiny.tail.rows).train_loss] == list(range(1, 9))
        before = tiny.tail._offset
        write_metrics(runs / "tiny", train_rows(9, 12, eval_every=10), mode="a")
        write_metrics(runs / "newrun", train_rows(1, 2))  # a run that starts meanwhile
        await pilot.pause(0.3)  # the timer looks again
        assert cell(app, "tiny", 2) == "12/50"
        assert [s for s, _ in curves(tiny.tail.rows).train_loss] == list(range(1, 13))
        assert tiny.tail._offset > before  # read on from where it was
        assert runs_table(app).row_count == 4 and cell(app, "newrun", 1) == "running"
        # The plot shows the new points: its data is the curve's.
        plot = screen.query_one("#loss-plot", PlotextPlot)
        xs = plot.plt._active.monitor.x[0]  # plotext's own record of the plotted series
        assert list(xs) == list(range(1, 13))


@run_async
async def test_runs_screen_without_a_folder_or_with_an_empty_one(tmp_path: Path) -> None:
    app = CorpusApp(make_tui_dataset(tmp_path, 5), cursor_blink=False, refresh_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, RecordsScreen)
        await pilot.press("4")
        await pilot.pause()
        assert "No runs folder" in str(app.screen.query_one("#no-runs", Static).render())
    empty = tmp_path / "empty"
    empty.mkdir()
    app = CorpusApp(None, runs=empty, cursor_blink=False, refresh_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "No training runs in" in str(app.screen.query_one("#run-info", Static).render())
        write_metrics(empty / "first", train_rows(1, 3))
        await pilot.press("u")
        await pilot.pause()
        assert runs_table(app).row_count == 1


def test_cli_runs_folder_must_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["tui", "--runs", str(tmp_path / "nope")])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "no such directory" in result.output and "Traceback" not in result.output
    old = tmp_path / "old"
    write_metrics(old, train_rows(1, 2))
    os.utime(old / "metrics.jsonl", (0, 0))
    assert run_status(old, None) == "stopped"
