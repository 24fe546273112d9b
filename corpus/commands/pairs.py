"""`corpus pairs DATASET --out DIR [--model MODEL | --adapter RUN/adapter]`: preference pairs
mined from the corpus (chosen = the real doc, rejected = a realistic wrong one), split like
the corpus, with their KTO view; checked before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import (
    PANEL_TRAIN,
    add_command,
    console,
    is_interactive,
    stage_progress,
    user_errors,
)
from corpus.commands._options import DatasetConfig


def register(app: typer.Typer) -> None:
    """Add the pairs command to ``app``."""
    add_command(app, "pairs", pairs, PANEL_TRAIN)


_OUT = typer.Option(
    ...,
    "--out",
    "-o",
    metavar="DIR",
    help="Folder for preferences/ (with pairs.json) and kto/; the dataset folder itself "
    "makes `corpus publish` ship them as its preferences config.",
)
_MODEL = typer.Option(
    None,
    "--model",
    "-m",
    metavar="MODEL",
    help="Also reject this base model's own generations where the eval metrics rank them "
    "below the doc (the `model` kind).",
)
_ADAPTER = typer.Option(
    None, "--adapter", metavar="RUN/adapter", help="As --model, with a trained adapter."
)


def pairs(
    dataset: str = typer.Argument(
        ..., metavar="DATASET", help="Dataset folder or Hub ORG/NAME[@rev]."
    ),
    out: Path = _OUT,
    config: DatasetConfig = "default",
    prompt_input: str = typer.Option(
        "context",
        "--prompt-input",
        metavar="signature|context|source",
        help="The prompt of every pair (as the trainer's prompt_input).",
    ),
    include_tests: bool = typer.Option(False, "--include-tests", help="Keep test functions."),
    model: str = _MODEL,
    adapter: Path = _ADAPTER,
    limit: int = typer.Option(
        0, "--limit", metavar="N", help="Generate for at most N records (0 = all)."
    ),
    bits: int = typer.Option(
        None, "--bits", metavar="4|16", help="Load the generator's base in 4 or 16 bits."
    ),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help="auto, cpu or cuda."),
    batch_size: int = typer.Option(8, "--batch-size", metavar="N", help="Generation batch."),
    max_new_tokens: int = typer.Option(
        256, "--max-new-tokens", metavar="N", help="Generation budget per doc."
    ),
) -> None:
    """Mine preference pairs (DPO/ORPO/reward) and their KTO view from a corpus dataset."""
    with user_errors():
        from corpus.prompt import PromptSpec
        from pipelines.pairs.generated import ModelSource
        from pipelines.pairs.run import PairsConfig, make_pairs

        source = None
        if model or adapter:
            source = ModelSource(
                model=model,
                adapter=adapter,
                bits=bits,
                device=device,
                batch_size=batch_size,
                max_new_tokens=max_new_tokens,
            )
        cfg = PairsConfig(
            data=dataset,
            out=out,
            config=config,
            spec=PromptSpec(input=prompt_input),
            include_tests=include_tests,
            source=source,
            limit=limit,
        )
        with stage_progress() as bar:
            tick = _ticker(bar) if is_interactive() and source is not None else None
            res = make_pairs(cfg, tick)
    _print_report(res.report, res.files)


def _ticker(bar: Any) -> Any:
    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        bar("generate", done[0], max(done[0], 1))

    return tick


def _print_report(report: dict, files: dict[str, Path]) -> None:
    from rich.table import Table

    splits = list(report["records"])
    table = Table(title=f"{report['pairs']:,} pairs from {report['dataset']}")
    table.add_column("rejection kind")
    for s in splits:
        table.add_column(s, justify="right")
    table.add_column("all", justify="right")
    for kind, by_split in report["counts"].items():
        table.add_row(
            kind, *(f"{by_split.get(s, 0):,}" for s in splits), f"{sum(by_split.values()):,}"
        )
    table.add_row(
        "records",
        *(f"{report['records'][s]:,}" for s in splits),
        f"{sum(report['records'].values()):,}",
    )
    console.print(table)
    checks = report["checks"]
    console.print(
        f"{sum(c['ok'] for c in checks)}/{len(checks)} pair checks pass; "
        f"{report['merged']} rejections equal to another kind's merged; "
        f"{report['seconds']:.1f} s",
        markup=False,
    )
    if report.get("model"):
        m = report["model"]
        console.print(
            f"model kind: {m['kept']} of {m['generated']} generations of "
            f"{m['generator']} rank below the doc",
            markup=False,
        )
    for name, path in files.items():
        console.print(f"wrote {name}: {path}", markup=False, soft_wrap=True)
