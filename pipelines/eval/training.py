"""`corpus eval` wired into training: the end-of-run evaluation and the ablation's ranking.

At the end of `corpus train` (``eval_limit`` > 0), the saved adapter is compared with its base
(adapters disabled, same prompt, loaded as trained) and with the retrieval baseline on a fixed
subset of the *test* split (``eval_limit`` records in sha256(id) order, so every run of a
sweep sees the same records). The full evaluation goes to ``RUN/eval/`` (eval.json,
report.md, plots); its tables are appended to ``RUN/report.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError, CorpusError
from corpus.store import read_json, write_bytes_atomic

TEST_SPLIT = "test"
EVAL_DIR = "eval"
ADAPTER, BASE = "adapter", "base"


def _is_main_process() -> bool:
    """Under torchrun/accelerate every rank trains; only rank 0 evaluates and writes."""
    return int(os.environ.get("RANK", "0")) == 0


def evaluate_run(
    cfg: Any, run_dir: Path, *, progress: bool = False, extra_systems: list[str] | None = None
) -> dict[str, Any] | None:
    """Evaluate ``RUN/adapter`` against its base and retrieval (and ``extra_systems``, e.g. the
    SFT adapter a DPO run started from); None when skipped or failed (report.md then says why:
    no test split, or the error; nothing when off or not rank 0)."""
    from corpus.commands._common import err_console, stage_progress
    from pipelines.eval.report import write_eval
    from pipelines.eval.run import EvalConfig, evaluate, load_records
    from pipelines.eval.systems import Options

    run_dir = Path(run_dir)
    if not cfg.eval_limit or not _is_main_process():
        return None
    if not any(r["split"] == TEST_SPLIT for r in load_records(cfg.dataset)):
        _append(
            run_dir,
            [
                "",
                "## Evaluation",
                "",
                f"Skipped: the dataset has no documented `{TEST_SPLIT}` records.",
            ],
        )
        return None
    ecfg = EvalConfig(
        data=cfg.dataset,
        systems=[
            f"{ADAPTER}=adapter:{run_dir / 'adapter'}",
            *(extra_systems or []),
            f"{BASE}=base:{cfg.model}",
            "retrieval",
        ],
        split=TEST_SPLIT,
        limit=cfg.eval_limit,
        train_split=cfg.train_split,
        options=Options(device=cfg.device, max_new_tokens=cfg.eval_max_new_tokens),
    )
    try:
        with stage_progress() as bar:
            result = evaluate(ecfg, bar if progress else None)
    except CorpusError as exc:
        # The adapter is saved and sound: a failed eval is reported, not a failed training.
        _append(run_dir, ["", "## Evaluation", "", f"Failed: {exc}"])
        err_console.print(f"warning: end-of-run eval failed: {exc}", markup=False)
        return None
    write_eval(result, run_dir / EVAL_DIR)
    _append(run_dir, eval_section(result.summary))
    return result.summary


def eval_section(summary: dict[str, Any]) -> list[str]:
    """The lines report.md gets: the systems table and the paired comparisons."""
    from pipelines.eval.report import comparisons_table, systems_table

    return [
        "",
        f"## Evaluation ({summary['split']} split, {summary['n']} records)",
        "",
        f"The adapter against its base and the retrieval baseline; primary metric "
        f"**{summary['primary']}**; means with 95% bootstrap CIs. Full report: "
        f"[{EVAL_DIR}/report.md]({EVAL_DIR}/report.md).",
        "",
        *systems_table(summary),
        "",
        *comparisons_table(summary),
    ]


def _append(run_dir: Path, lines: list[str]) -> None:
    report = run_dir / "report.md"
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    write_bytes_atomic(report, (text.rstrip("\n") + "\n" + "\n".join(lines) + "\n").encode())


def run_metric(run_dir: Path) -> tuple[str, float | None] | None:
    """(primary metric, the adapter's mean) of a run's end-of-run eval, or None without one."""
    f = Path(run_dir) / EVAL_DIR / "eval.json"
    if not f.is_file():
        return None
    try:
        summary = read_json(f)
    except BadInputError:
        return None
    for s in summary.get("systems", []):
        if s.get("name") == ADAPTER:
            return summary["primary"], s["metrics"][summary["primary"]]["mean"]
    return None


def rank_rows(rows: list[dict[str, Any]]) -> None:
    """Add ``rank_eval_loss`` (1 = lowest) and ``rank_metric`` (1 = highest adapter score)
    to ablation rows that carry ``eval_loss`` / ``eval_metric``."""

    def ranks(key: str, reverse: bool) -> dict[int, int]:
        scored = [(r[key], i) for i, r in enumerate(rows) if r.get(key) is not None]
        scored.sort(key=lambda t: (-t[0], t[1]) if reverse else t)
        return {i: k + 1 for k, (_, i) in enumerate(scored)}

    by_loss, by_metric = ranks("eval_loss", False), ranks("eval_metric", True)
    for i, r in enumerate(rows):
        r["rank_eval_loss"] = by_loss.get(i)
        r["rank_metric"] = by_metric.get(i)
