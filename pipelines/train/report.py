"""The run report: loss curves as a PNG and a markdown summary beside the adapter."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from corpus.store import write_bytes_atomic

LOSS_PNG = "loss.png"
REPORT_MD = "report.md"


def plot_losses(rows: list[dict], dest: Path, title: str = "loss") -> None:
    """Train and eval loss against the optimiser step, written atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    evals = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss")
    if evals:
        ax.plot(*zip(*evals, strict=True), marker="o", label="eval loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    write_bytes_atomic(dest, buf.getvalue())


def _fmt(x: Any) -> str:
    return f"{x:.4f}" if isinstance(x, float) else str(x)


def write_report(out: Path, cfg: Any, res: Any) -> None:
    """report.md + loss.png for a finished run."""
    from pipelines.train.run import read_metrics

    rows = read_metrics(out)
    plot_losses(rows, Path(out) / LOSS_PNG, title=f"{cfg.model} r={cfg.lora_r} bits={cfg.bits}")
    d = res.data
    lines = [
        f"# Training run: {cfg.model}",
        "",
        f"- device: {res.device}; bits: {cfg.bits}; LoRA r={cfg.lora_r} alpha={cfg.lora_alpha} "
        f"on {cfg.lora_targets} ({cfg.adapter}, rsLoRA {cfg.use_rslora})",
        f"- steps: {res.steps}; time: {res.seconds:.1f} s; peak memory: "
        f"{res.peak_memory_bytes / 2**20:.0f} MiB",
        f"- trainable parameters: {res.trainable_params:,} of {res.total_params:,}",
        f"- final train loss: {_fmt(res.train_loss)}; final eval loss: {_fmt(res.eval_loss)}",
        f"- data: {d.get('examples')} examples ({d.get('per_split')}, prompt "
        f"{cfg.prompt_input}), {d.get('dropped_too_long')} longer than {cfg.max_length} tokens "
        f"dropped, {d.get('shortened')} source prompts shortened, {d.get('no_doc')} without doc, "
        f"{d.get('tests_excluded')} tests excluded, {d.get('loss_tokens')} of {d.get('tokens')} "
        "tokens carry loss",
        "",
        f"![loss curves]({LOSS_PNG})",
        "",
        "| step | train loss | eval loss | lr |",
        "|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "loss" in r or "eval_loss" in r:
            lines.append(
                f"| {r['step']} | {_fmt(r.get('loss', ''))} | {_fmt(r.get('eval_loss', ''))} | "
                f"{r.get('learning_rate', '')} |"
            )
    write_bytes_atomic(Path(out) / REPORT_MD, ("\n".join(lines) + "\n").encode("utf-8"))
