"""Writing an evaluation: eval.json, predictions.jsonl, report.md and PNG plots.

Every file is rendered in memory first and written atomically at the very end, so a failed
evaluation leaves no partial eval.json behind (and a rerun replaces all of them).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.store import write_bytes_atomic, write_json
from pipelines.eval.metrics import METRICS

if TYPE_CHECKING:
    from pipelines.eval.run import EvalResult

EVAL_JSON = "eval.json"
PREDICTIONS = "predictions.jsonl"
REPORT_MD = "report.md"
METRICS_PNG = "metrics.png"
PER_REPO_PNG = "per_repo.png"
CURVE_PNG = "curve.png"
#: Columns of the summary table (every metric is in eval.json).
HEADLINE = (
    "chrf_doc",
    "rouge_l_doc",
    "bleu_summary",
    "rouge_l_summary",
    "section_f1",
    "format_valid",
    "invented_ids",
    "param_coverage",
    "doctest_parse",
    "length_ratio",
)


def _num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _cell(m: dict[str, Any], metric: str) -> str:
    """``12.3 [11.0, 13.6]``: mean and 95% CI (one decimal on 0-100 scales, else three)."""
    if m["mean"] is None:
        return "-"
    d = 1 if metric.startswith(("rouge", "chrf", "bleu")) else 3
    return f"{m['mean']:.{d}f} [{_num(m['lo'], d)}, {_num(m['hi'], d)}]"


def headline(summary: dict[str, Any]) -> tuple[str, ...]:
    """:data:`HEADLINE` and any added column (``reward:RUN``) the summary holds."""
    systems = summary.get("systems") or [{"metrics": {}}]
    return HEADLINE + tuple(k for k in systems[0]["metrics"] if k not in METRICS)


def systems_table(summary: dict[str, Any], columns: tuple[str, ...] | None = None) -> list[str]:
    """Markdown: one row per system, each metric's mean [95% CI], and its time."""
    columns = columns or headline(summary)
    head = "| system | " + " | ".join(columns) + " | time (s) |"
    lines = [head, "|---" + "|---:" * (len(columns) + 1) + "|"]
    for s in summary["systems"]:
        cells = [_cell(s["metrics"][c], c) for c in columns]
        lines.append(f"| {s['name']} | " + " | ".join(cells) + f" | {s['seconds']:.1f} |")
    return lines


def comparisons_table(summary: dict[str, Any]) -> list[str]:
    """Markdown: every pair's wins/ties/losses and mean difference [95% CI]."""
    lines = [
        "| a | b | a wins | ties | b wins | mean a - b [95% CI] |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for c in summary["comparisons"]:
        lines.append(
            f"| {c['a']} | {c['b']} | {c['wins']} | {c['ties']} | {c['losses']} | "
            f"{_num(c['diff'])} [{_num(c['lo'])}, {_num(c['hi'])}] |"
        )
    return lines


def per_repo_table(summary: dict[str, Any]) -> list[str]:
    """Markdown: the primary metric's mean per repository and system."""
    names = [s["name"] for s in summary["systems"]]
    counts = summary.get("repo_counts", {})
    lines = ["| repo | n | " + " | ".join(names) + " |", "|---|---:" + "|---:" * len(names) + "|"]
    for repo, by in summary["per_repo"].items():
        cells = [_num(by[n][summary["primary"]]) for n in names]
        lines.append(f"| {repo} | {counts.get(repo, '')} | " + " | ".join(cells) + " |")
    return lines


def _fence(text: str) -> list[str]:
    return ["````text", text if text.strip() else "(empty output)", "````"]


def _first_line(text: str) -> str:
    """A cell: the first non-blank line, pipes escaped, cut at 90 characters."""
    line = next((x.strip() for x in text.splitlines() if x.strip()), "(empty)")
    line = line if len(line) <= 90 else line[:89] + "…"
    return line.replace("|", "\\|")


def examples_table(summary: dict[str, Any]) -> list[str]:
    """Markdown: the chosen examples side by side, first lines only (full texts below)."""
    names = list(summary["examples"][0]["outputs"]) if summary["examples"] else []
    lines = [
        "| example | reference | " + " | ".join(names) + " |",
        "|---|---" + "|---" * len(names) + "|",
    ]
    for ex in summary["examples"]:
        cells = [f"{_first_line(ex['outputs'][n])} ({_num(ex['scores'][n])})" for n in names]
        lines.append(
            f"| {ex['kind']}: `{ex['name']}` | {_first_line(ex['reference'])} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def examples_section(summary: dict[str, Any]) -> list[str]:
    """Markdown: the examples side by side, then each one's reference and raw outputs."""
    out: list[str] = ["", *examples_table(summary)] if summary["examples"] else []
    for ex in summary["examples"]:
        out += ["", f"### {ex['kind']}: `{ex['name']}` ({ex['repo']})", "", "reference:"]
        out += _fence(ex["reference"])
        for name, text in ex["outputs"].items():
            out += [f"{name} ({summary['primary']} {_num(ex['scores'][name])}):"]
            out += _fence(text)
    return out


def render_markdown(summary: dict[str, Any]) -> str:
    """report.md: tables, plots, definitions, examples."""
    lines = [
        f"# Evaluation: {summary['split']} split, {summary['n']} records",
        "",
        f"Data: `{summary['data']}`. Primary metric: **{summary['primary']}**. Means with "
        f"95% percentile-bootstrap CIs ({summary['resamples']} resamples, seed "
        f"{summary['seed']}); comparisons are paired (same examples, same resamples).",
        "",
        *systems_table(summary),
        "",
        f"![metrics]({METRICS_PNG})",
        "",
        f"## Paired comparisons ({summary['primary']})",
        "",
        *comparisons_table(summary),
        "",
        f"## Per repository ({summary['primary']})",
        "",
        *per_repo_table(summary),
        "",
        f"![per repository]({PER_REPO_PNG})",
    ]
    if summary["curve"]:
        lines += ["", "## Checkpoints", "", f"![curve]({CURVE_PNG})"]
    lines += ["", "## Metrics", ""]
    lines += [f"- `{name}`: {text}" for name, text in summary["definitions"].items()]
    lines += ["", "## Best and worst examples", *examples_section(summary)]
    return "\n".join(lines) + "\n"


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_metrics(summary: dict[str, Any]) -> bytes:
    """One panel per metric: each system's mean with its 95% CI as an error bar."""
    plt = _pyplot()
    names = [*METRICS, *(k for k in headline(summary) if k not in METRICS)]
    cols = 4
    fig, axes = plt.subplots((len(names) + cols - 1) // cols, cols, figsize=(14, 8), dpi=90)
    systems = summary["systems"]
    for ax, metric in zip(axes.flat, names, strict=False):
        ms = [s["metrics"][metric] for s in systems]
        # An undefined mean (no example has the metric) draws no bar rather than a zero.
        means = [math.nan if m["mean"] is None else m["mean"] for m in ms]
        err = [
            [0.0 if m["mean"] is None else m["mean"] - m["lo"] for m in ms],
            [0.0 if m["mean"] is None else m["hi"] - m["mean"] for m in ms],
        ]
        ax.bar(
            range(len(systems)),
            means,
            yerr=err,
            capsize=3,
            color=[f"C{i % 10}" for i in range(len(systems))],
        )
        ax.set_xticks(
            range(len(systems)), [s["name"] for s in systems], rotation=30, ha="right", fontsize=7
        )
        ax.set_title(metric, fontsize=9)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def plot_per_repo(summary: dict[str, Any]) -> bytes:
    """Grouped bars: the primary metric per repository, one bar per system."""
    plt = _pyplot()
    repos = list(summary["per_repo"])
    names = [s["name"] for s in summary["systems"]]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(repos) * max(1, len(names)) / 2), 4), dpi=90)
    width = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        vals = [summary["per_repo"][r][name][summary["primary"]] or 0.0 for r in repos]
        ax.bar([i + j * width for i in range(len(repos))], vals, width, label=name)
    ax.set_xticks(
        [i + 0.4 - width / 2 for i in range(len(repos))], repos, rotation=20, ha="right", fontsize=8
    )
    ax.set_ylabel(summary["primary"])
    ax.legend(fontsize=7)
    return _png(fig)


def plot_curve(summary: dict[str, Any]) -> bytes:
    """The primary metric against the checkpoint step (CI band); other systems as lines."""
    plt = _pyplot()
    p = summary["primary"]
    pts = summary["curve"]
    steps = [c["step"] for c in pts]
    mid = [c["metrics"][p]["mean"] or 0.0 for c in pts]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
    ax.plot(steps, mid, marker="o", label="checkpoints")
    ax.fill_between(
        steps,
        [c["metrics"][p]["lo"] or 0.0 for c in pts],
        [c["metrics"][p]["hi"] or 0.0 for c in pts],
        alpha=0.25,
    )
    for k, s in enumerate(x for x in summary["systems"] if x.get("step") is None):
        ax.axhline(
            s["metrics"][p]["mean"] or 0.0, linestyle="--", color=f"C{k + 1}", label=s["name"]
        )
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(p)
    ax.legend(fontsize=8)
    return _png(fig)


def predictions_jsonl(result: EvalResult) -> bytes:
    """One line per record: id, repo, reference, every system's output and scores."""
    lines = []
    for i, rec in enumerate(result.records):
        row = {
            "id": rec["id"],
            "repo": rec["repo"],
            "reference": rec["doc"],
            "outputs": {g.spec.name: g.outputs[i] for g in result.generated},
            "scores": {n: rows[i] for n, rows in result.scores.items()},
        }
        lines.append(json.dumps(row, ensure_ascii=False, sort_keys=True))
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_eval(result: EvalResult, out: Path) -> dict[str, Path]:
    """Render every file, then write them (eval.json last); returns what was written."""
    summary = dict(result.summary)
    summary["repo_counts"] = {}
    for r in result.records:
        summary["repo_counts"][r["repo"]] = summary["repo_counts"].get(r["repo"], 0) + 1
    files = {
        PREDICTIONS: predictions_jsonl(result),
        REPORT_MD: render_markdown(summary).encode("utf-8"),
        METRICS_PNG: plot_metrics(summary),
        PER_REPO_PNG: plot_per_repo(summary),
    }
    if summary["curve"]:
        files[CURVE_PNG] = plot_curve(summary)
    out = Path(out)
    if not summary["curve"]:
        (out / CURVE_PNG).unlink(missing_ok=True)  # a curve from an earlier run would mislead
    for name, data in files.items():
        write_bytes_atomic(out / name, data)
    write_json(out / EVAL_JSON, summary)
    return {name: out / name for name in [*files, EVAL_JSON]}
