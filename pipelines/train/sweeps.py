"""Rank ablation (one short run per rank) and the LR range test.

The LR range test is a plain loop, not SFTTrainer: it needs a new learning rate every step and
a stop as soon as the loss diverges — a dozen lines here against a custom scheduler plus a
stopping callback there.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

from corpus.store import write_bytes_atomic, write_json
from pipelines.train.config import TrainConfig


def ablate_ranks(cfg: TrainConfig, ranks: list[int], out: Path) -> list[dict[str, Any]]:
    """Train once per rank (same data, seed, steps); write ablation.json and ablation.md."""
    from pipelines.train.run import train

    rows = []
    for r in ranks:
        run_cfg = dataclasses.replace(cfg, lora_r=r, output_dir=str(Path(out) / f"r{r}"))
        t0 = time.monotonic()
        res = train(run_cfg)
        rows.append(
            {
                "rank": r,
                "eval_loss": res.eval_loss,
                "train_loss": res.train_loss,
                "trainable_params": res.trainable_params,
                "seconds": round(time.monotonic() - t0, 2),
                "peak_memory_mib": round(res.peak_memory_bytes / 2**20, 1),
            }
        )
    metric = _add_eval_metric(rows, out)
    write_json(Path(out) / "ablation.json", rows)
    md = [
        f"| rank | eval loss | {metric} (adapter) | by loss | by {metric} | trainable params "
        "| time (s) | peak memory (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ev = f"{row['eval_loss']:.4f}" if row["eval_loss"] is not None else "-"
        em = f"{row['eval_metric']:.2f}" if row["eval_metric"] is not None else "-"
        md.append(
            f"| {row['rank']} | {ev} | {em} | {row['rank_eval_loss'] or '-'} | "
            f"{row['rank_metric'] or '-'} | {row['trainable_params']:,} | {row['seconds']} | "
            f"{row['peak_memory_mib']} |"
        )
    write_bytes_atomic(Path(out) / "ablation.md", ("\n".join(md) + "\n").encode())
    return rows


def _add_eval_metric(rows: list[dict[str, Any]], out: Path) -> str:
    """Each row's end-of-run eval score (``eval_metric``) and its ranks by eval loss and by
    that score; returns the metric's name."""
    from pipelines.eval.run import DEFAULT_PRIMARY
    from pipelines.eval.training import rank_rows, run_metric

    name = DEFAULT_PRIMARY
    for row in rows:
        found = run_metric(Path(out) / f"r{row['rank']}")
        row["eval_metric"] = found[1] if found else None
        name = found[0] if found else name
    rank_rows(rows)
    return name


def lr_range_test(
    cfg: TrainConfig,
    out: Path,
    *,
    min_lr: float = 1e-6,
    max_lr: float = 1e-1,
    steps: int = 50,
) -> dict[str, Any]:
    """Raise the LR exponentially each step; suggest the LR of the steepest loss descent."""
    import torch

    from pipelines.train.run import make_trainer

    trainer, _tok, _stats, _dev = make_trainer(dataclasses.replace(cfg, output_dir=str(out)))
    model = trainer.model
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=min_lr, weight_decay=cfg.weight_decay)
    loader = trainer.get_train_dataloader()
    lrs, losses, smooth = [], [], []
    avg, beta, best = 0.0, 0.9, math.inf
    batches = iter(loader)
    for k in range(steps):
        lr = min_lr * (max_lr / min_lr) ** (k / max(1, steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        batch = {k2: v.to(model.device) for k2, v in batch.items() if hasattr(v, "to")}
        loss = model(**batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        opt.step()
        value = float(loss.detach())
        avg = beta * avg + (1 - beta) * value
        s = avg / (1 - beta ** (k + 1))  # bias-corrected moving average
        lrs.append(lr)
        losses.append(value)
        smooth.append(s)
        best = min(best, s)
        if not math.isfinite(value) or s > 4 * best:
            break  # diverged: the rest of the range tells nothing
    # Steepest descent of the smoothed loss against log(lr), skipping the noisy first steps.
    start = min(3, len(smooth) - 2)
    slopes = [
        (smooth[j + 1] - smooth[j]) / (math.log(lrs[j + 1]) - math.log(lrs[j]))
        for j in range(max(0, start), len(smooth) - 1)
    ]
    j = min(range(len(slopes)), key=slopes.__getitem__) + max(0, start) if slopes else 0
    result = {"lrs": lrs, "losses": losses, "smoothed": smooth, "suggested_lr": lrs[j]}
    write_json(Path(out) / "lr_find.json", result)
    _plot(lrs, smooth, lrs[j], Path(out) / "lr_find.png")
    return result


def _plot(lrs: list[float], smooth: list[float], best: float, dest: Path) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(lrs, smooth)
    ax.axvline(best, color="red", linestyle="--", label=f"suggested {best:.2e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("smoothed loss")
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    write_bytes_atomic(dest, buf.getvalue())
