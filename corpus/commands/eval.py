"""`corpus eval`: measure systems (baselines, models, endpoints) on a split, with CIs.

Only typer/rich at module level: the metrics libraries, bm25s, matplotlib, openai and the
training stack are imported inside the command (``corpus --help`` stays fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import (
    PANEL_TRAIN,
    ExitCode,
    add_command,
    console,
    fail,
    stage_progress,
    user_errors,
)


def register(app: typer.Typer) -> None:
    """Add the eval command to ``app``."""
    add_command(app, "eval", eval_command, PANEL_TRAIN)


def _check_flags(bits: int | None, limit: int, resamples: int, batch_size: int) -> None:
    if bits is not None and bits not in (4, 16):
        fail(f"--bits {bits}: choose 4 or 16", ExitCode.BAD_INPUT)
    if limit < 0 or batch_size < 1 or resamples < 100:
        fail("need --limit >= 0, --batch-size >= 1 and --bootstrap >= 100", ExitCode.BAD_INPUT)


_SYSTEM_HELP = (
    "[NAME=]template | retrieval | base:MODEL | adapter:RUN/adapter | openai:URL#model "
    "(repeatable)."
)

_CHECKPOINTS = typer.Option(
    None,
    "--checkpoints",
    metavar="RUN",
    help="A run: evaluate each RUN/checkpoints/checkpoint-N (a curve).",
)
_BATCH_SIZE = typer.Option(
    8, "--batch-size", metavar="N", help="Prompts per batch (concurrent requests for openai:)."
)
_PROMPT_INPUT = typer.Option(
    None,
    "--prompt-input",
    metavar="signature|context|source",
    help="Prompt of base:/openai: systems: signature, context, source.",
)
_METRIC = typer.Option(
    [],
    "--metric",
    metavar="reward:RUN",
    help="Add a column: reward:RUN scores every output with a `corpus train reward` model "
    "(repeatable).",
)
_API_KEY_ENV = typer.Option(
    None,
    "--api-key-env",
    metavar="VAR",
    help="Variable holding the openai: API key (else OPENAI_API_KEY).",
)


def eval_command(
    data: str = typer.Option(
        ..., "--data", "-d", metavar="DATASET", help="Dataset folder, parquet or ORG/NAME@rev."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="DIR", help="Folder for eval.json, report.md, plots."
    ),
    system: list[str] = typer.Option([], "--system", "-s", metavar="SYSTEM", help=_SYSTEM_HELP),
    split: str = typer.Option("test", "--split", metavar="SPLIT", help="Split to evaluate on."),
    limit: int = typer.Option(
        0, "--limit", "-n", metavar="N", help="At most N records, a fixed subset."
    ),
    checkpoints: Path = _CHECKPOINTS,
    primary: str = typer.Option(
        "chrf_doc", "--primary", metavar="METRIC", help="Metric compared and ranked."
    ),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Bootstrap seed."),
    resamples: int = typer.Option(1000, "--bootstrap", metavar="N", help="Bootstrap resamples."),
    examples: int = typer.Option(
        3, "--examples", metavar="N", help="Best and worst examples in report.md."
    ),
    bits: int = typer.Option(
        None, "--bits", metavar="4|16", help="Load bases in 4 or 16 bits (default: as trained)."
    ),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help="auto, cpu or cuda."),
    batch_size: int = _BATCH_SIZE,
    max_new_tokens: int = typer.Option(
        256, "--max-new-tokens", metavar="N", help="Token budget per doc."
    ),
    prompt_input: str = _PROMPT_INPUT,
    api_key_env: str = _API_KEY_ENV,
    timeout: float = typer.Option(
        60.0, "--timeout", metavar="SECONDS", help="Seconds per openai: request."
    ),
    train_split: str = typer.Option(
        "train", "--train-split", metavar="SPLIT", help="Split retrieval indexes."
    ),
    metric: list[str] = _METRIC,
) -> None:
    """Evaluate systems on a split: metrics with bootstrap CIs, paired comparisons, report."""
    _check_flags(bits, limit, resamples, batch_size)
    with user_errors():
        from pipelines.eval.report import write_eval
        from pipelines.eval.run import evaluate

        cfg = _eval_config(dict(locals()))
        with stage_progress() as progress:
            result = evaluate(cfg, progress)
        written = write_eval(result, out)
    _print_summary(result.summary)
    console.print(f"wrote {written['eval.json']} and report.md, plots beside it", markup=False)


_OPTION_FIELDS = ("bits", "device", "batch_size", "timeout", "max_new_tokens", "prompt_input",
                  "api_key_env")  # fmt: skip
_CONFIG_FIELDS = ("data", "split", "limit", "primary", "seed", "resamples", "examples",
                  "train_split")  # fmt: skip


def _eval_config(flags: dict) -> Any:
    """The EvalConfig the command's flags ask for."""
    from pipelines.eval.run import EvalConfig
    from pipelines.eval.systems import Options

    checkpoints = flags["checkpoints"]
    return EvalConfig(
        systems=list(flags["system"]),
        options=Options(**{k: flags[k] for k in _OPTION_FIELDS}),
        checkpoints=str(checkpoints) if checkpoints else None,
        metrics=list(flags["metric"]),
        **{k: flags[k] for k in _CONFIG_FIELDS},
    )


def _print_summary(summary: dict) -> None:
    """Metrics as rows, systems as columns (fits a terminal better than the reverse)."""
    from rich.table import Table

    from pipelines.eval.report import headline

    systems = summary["systems"]
    table = Table(title=f"{summary['split']}: {summary['n']} records, mean [95% CI]")
    table.add_column("metric")
    for s in systems:
        table.add_column(s["name"], justify="right")
    for c in headline(summary):
        cells = []
        for s in systems:
            m = s["metrics"][c]
            undefined = m["mean"] is None  # no example has this metric (e.g. no doc tests)
            cells.append("-" if undefined else f"{m['mean']:.2f} [{m['lo']:.2f}, {m['hi']:.2f}]")
        table.add_row(c, *cells)
    table.add_row("seconds", *(f"{s['seconds']:.1f}" for s in systems))
    console.print(table)
    for c in summary["comparisons"]:
        console.print(
            f"{c['a']} vs {c['b']} on {c['metric']}: {c['wins']}/{c['ties']}/{c['losses']} "
            f"(win/tie/loss), mean diff {c['diff']:.2f} [{c['lo']:.2f}, {c['hi']:.2f}]",
            markup=False,
        )
