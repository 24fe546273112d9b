"""report.md and metrics.png of a method run: what the method predicts should move, per step.

DPO/IPO/hinge and ORPO: the implicit rewards of chosen and rejected docs, their margin and
how often the chosen one wins; KTO: the same and its KL estimate; reward: pairwise accuracy
and margin; RL: the total reward, each component and guard separately, the KL to the SFT
reference (first, last, largest), and how often each guard fired.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from corpus.store import write_bytes_atomic
from pipelines.train.report import LOSS_PNG, REPORT_MD, _fmt, plot_losses

METRICS_PNG = "metrics.png"
COLUMNS = {
    "dpo": ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"),
    "orpo": ("loss", "nll_loss", "log_odds_ratio", "rewards/margins", "rewards/accuracies"),
    "kto": ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "kl"),
    "reward": ("loss", "accuracy", "margin", "mean_reward"),
    "rl": ("reward", "reward_std", "kl", "completions/mean_length"),
}


def columns(cfg: Any, rewards: Any = None) -> tuple[str, ...]:
    """The metrics a method's report tabulates (RL: plus one column per component/guard)."""
    cols = COLUMNS[cfg.method]
    if rewards is not None:
        from pipelines.train.rewards import GUARDS

        cols += tuple(f"rewards/{n}/mean" for n in (*rewards.names, *GUARDS))
    return cols


def plot_metrics(rows: list[dict], cols: tuple[str, ...], dest: Path, title: str) -> None:
    """One panel per metric against the optimiser step (PNG, written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [c for c in cols if any(c in r for r in rows)] or ["loss"]
    n = len(shown)
    fig, axes = plt.subplots((n + 2) // 3, min(3, n), figsize=(12, 3 * ((n + 2) // 3)), dpi=90,
                             squeeze=False)  # fmt: skip
    for ax, col in zip(axes.flat, shown, strict=False):
        pts = [(r["step"], r[col]) for r in rows if col in r]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker=".")
        ax.set_title(col, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    write_bytes_atomic(dest, buf.getvalue())


def kl_summary(rows: list[dict], cfg: Any) -> str:
    """First, last and largest logged KL to the reference, or why there is none."""
    kl = [r["kl"] for r in rows if "kl" in r]
    if not kl:
        why = {"rl": "beta = 0: no KL term", "orpo": "ORPO has no reference"}.get(
            cfg.method,
            f"TRL's {cfg.method} trainer logs none; the reward margins above are "
            "the policy's log-ratio to the reference",
        )
        return f"KL to the reference: not measured ({why})."
    return (f"KL to the reference (mean per token, as logged): first {kl[0]:.4f}, last "
            f"{kl[-1]:.4f}, largest {max(kl):.4f} over {len(kl)} logged steps.")  # fmt: skip


def guard_lines(rows: list[dict], rewards: Any) -> list[str]:
    """How often the degenerate guard fired and what the length guard cost, per logged step."""
    degenerate = [r["rewards/degenerate/mean"] for r in rows if "rewards/degenerate/mean" in r]
    length = [r["rewards/length/mean"] for r in rows if "rewards/length/mean" in r]
    if not degenerate:
        return []
    rates = [-d / rewards.floor() for d in degenerate]
    return [
        "## Reward-hacking guards",
        "",
        f"- degenerate outputs (empty, no doc line, a repeated word or phrase; total forced "
        f"below any sound output's): {rates[0]:.0%} of generations at the first logged step, "
        f"{rates[-1]:.0%} at the last, {max(rates):.0%} at most"
        + ("" if rewards.degenerate_guard else " (guard off: measured, not applied)"),
        f"- length guard (weight {rewards.length_penalty:g}; free between half and twice the "
        f"reference's length): mean cost {-length[0]:.3f} first, {-length[-1]:.3f} last",
        "",
    ]


def _head(cfg: Any, res: Any) -> list[str]:
    d = res.data
    start = f"from {cfg.init_adapter}" if cfg.init_adapter else "from a fresh adapter"
    extra = {"dpo": f", loss {cfg.loss_type}, beta {cfg.beta:g}", "kto": f", beta {cfg.beta:g}",
             "orpo": f", lambda {cfg.beta:g}", "rl": f", KL beta {cfg.beta:g}, "
             f"{cfg.num_generations} generations per prompt", "reward": ""}[cfg.method]  # fmt: skip
    return [
        f"# {cfg.method.upper()} run: {cfg.model}",
        "",
        f"- method: {cfg.method} {start}{extra}",
        f"- device: {res.device}; bits: {cfg.bits}; steps: {res.steps}; time: "
        f"{res.seconds:.1f} s; peak memory: {res.peak_memory_bytes / 2**20:.0f} MiB",
        f"- trainable parameters: {res.trainable_params:,} of {res.total_params:,}",
        f"- final train loss: {_fmt(res.train_loss)}; final eval loss: {_fmt(res.eval_loss)}",
        f"- data: rows {d.get('rows')}, trained on {d.get('examples')}, kinds "
        f"{d.get('kinds') or '-'}, {d.get('dropped_too_long')} longer than {cfg.max_length} "
        "tokens dropped",
        "",
    ]


def write_method_report(out: Path, cfg: Any, res: Any, rewards: Any = None) -> None:
    """report.md, loss.png and metrics.png of a finished method run."""
    from pipelines.train.run import read_metrics

    out = Path(out)
    rows = read_metrics(out)
    cols = columns(cfg, rewards)
    title = f"{cfg.method} on {cfg.model}"
    plot_losses(rows, out / LOSS_PNG, title=title)
    plot_metrics(rows, cols, out / METRICS_PNG, title)
    lines = [*_head(cfg, res), kl_summary(rows, cfg), ""]
    if rewards is not None:
        lines += guard_lines(rows, rewards)
    lines += [f"![metrics]({METRICS_PNG})", "", "| step | " + " | ".join(cols) + " |",
              "|---:|" + "---:|" * len(cols)]  # fmt: skip
    for r in rows:
        if any(c in r for c in cols):
            lines.append(f"| {r['step']} | " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |")
    write_bytes_atomic(out / REPORT_MD, ("\n".join(lines) + "\n").encode("utf-8"))
