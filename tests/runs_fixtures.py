"""Training run folders for the runs dashboard's tests, as `corpus train` and the evaluator write
them: metrics.jsonl, summary.json, train_config.yaml and eval/eval.json (all deterministic)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import yaml

#: An output with terminal control characters: the Samples tab must show them as symbols.
CONTROL_OUTPUT = "/// Prints \x1b[1mbold\x1b[0m text."


def train_rows(first: int, last: int, *, eval_every: int = 10) -> list[dict[str, Any]]:
    """metrics.jsonl rows for steps first..last: a train row each, an eval row every N steps."""
    rows: list[dict[str, Any]] = []
    for step in range(first, last + 1):
        lr = 2e-4 * min(1.0, step / 5)
        rows.append({"step": step, "epoch": step / 20, "time_s": step * 1.5,
                     "loss": round(2.4 - 0.06 * step + 0.05 * (step % 3), 4),
                     "learning_rate": lr, "grad_norm": 0.3})  # fmt: skip
        if step % eval_every == 0:
            rows.append({"step": step, "epoch": step / 20, "time_s": step * 1.5 + 0.5,
                         "eval_loss": round(2.2 - 0.04 * step, 4)})  # fmt: skip
    return rows


def write_metrics(run: Path, rows: list[dict[str, Any]], *, mode: str = "w") -> Path:
    """Write (or append) rows to run/metrics.jsonl."""
    run.mkdir(parents=True, exist_ok=True)
    path = run / "metrics.jsonl"
    with path.open(mode, encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return path


def eval_report() -> dict[str, Any]:
    """An eval/eval.json with two systems, a comparison, per-repo figures and two examples."""
    return {
        "split": "test",
        "n": 299,
        "primary": "rougeL",
        "systems": [
            {
                "name": "base",
                "kind": "base",
                "metrics": {
                    "rougeL": {"mean": 0.182, "lo": 0.17, "hi": 0.195},
                    "bleu": {"mean": 0.051, "lo": 0.044, "hi": 0.058},
                },
            },
            {
                "name": "adapter",
                "kind": "adapter",
                "metrics": {
                    "rougeL": {"mean": 0.314, "lo": 0.301, "hi": 0.327},
                    "bleu": {"mean": 0.122, "lo": 0.11, "hi": 0.134},
                },
            },
        ],
        "comparisons": [
            {
                "a": "adapter",
                "b": "base",
                "metric": "rougeL",
                "wins": 201,
                "ties": 30,
                "losses": 68,
                "diff": 0.132,
                "lo": 0.115,
                "hi": 0.149,
            },
        ],
        "per_repo": {"tokio-rs/tokio": {"adapter": {"rougeL": {"mean": 0.33}}}},
        "examples": [
            {
                "id": "a" * 64,
                "repo": "tokio-rs/tokio",
                "name": "tokio::runtime::Builder::new",
                "kind": "best",
                "reference": "/// Creates a new runtime builder.",
                "outputs": {
                    "base": "/// This function creates a builder.",
                    "adapter": "/// Creates a new `Builder`.",
                },
                "scores": {"base": 0.4, "adapter": 0.8},
            },
            {
                "id": "b" * 64,
                "repo": "clap-rs/clap",
                "reference": "/// Sets the help heading.",
                "outputs": {"base": CONTROL_OUTPUT, "adapter": "/// Sets the heading of the help."},
                "scores": {"base": 0.1, "adapter": 0.7},
            },
            "not an example",
        ],
    }


def make_runs(root: Path, *, now: float | None = None) -> Path:
    """``root`` with three runs: ``small`` finished and evaluated, ``tiny`` running (written just
    now), ``ablate/r8`` stopped (last written an hour ago)."""
    now = time.time() if now is None else now
    small = root / "small"
    write_metrics(
        small, [*train_rows(1, 20), {"step": 20, "train_loss": 1.9, "train_runtime": 30.0}]
    )
    (small / "adapter").mkdir(parents=True)
    config = {"model": "Qwen/Qwen2.5-Coder-1.5B-Instruct", "max_steps": 20, "lora_r": 64}
    (small / "adapter" / "train_config.yaml").write_text(yaml.safe_dump(config))
    summary = {"steps": 20, "train_loss": 1.9, "eval_loss": 1.4, "seconds": 31.2, "device": "cuda"}
    (small / "summary.json").write_text(json.dumps(summary))
    (small / "eval").mkdir()
    (small / "eval" / "eval.json").write_text(json.dumps(eval_report()))
    tiny = root / "tiny"
    write_metrics(tiny, train_rows(1, 8))
    (tiny / "train_config.yaml").write_text(yaml.safe_dump({"model": "tiny", "max_steps": 50}))
    stopped = root / "ablate" / "r8"
    write_metrics(stopped, train_rows(1, 5))
    for path in (stopped / "metrics.jsonl",):
        os.utime(path, (now - 3600, now - 3600))
    return root
