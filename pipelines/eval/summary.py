"""Per-example scores -> what eval.json holds: means with CIs, paired comparisons, per-repo
means, a checkpoint curve and a few best/worst examples.

eval.json (read by the TUI's runs dashboard; these keys are a contract): ``split``, ``n``,
``primary``, ``seed``, ``systems`` (``name``, ``kind``, ``metrics: {metric: {mean, lo, hi,
n}}``, ``seconds``), ``comparisons`` (``a``, ``b``, ``metric``, ``wins``, ``ties``,
``losses``, ``diff``, ``lo``, ``hi``), ``per_repo`` (``{repo: {system: {metric: mean}}}``),
``examples`` (``id``, ``repo``, ``reference``, ``outputs: {system: text}``, ``scores:
{system: primary}``); plus ``data``, ``resamples``, ``definitions`` and ``curve``.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import TYPE_CHECKING, Any

from pipelines.eval.bootstrap import mean_ci, paired
from pipelines.eval.metrics import METRICS, is_number
from pipelines.eval.systems import public_target

if TYPE_CHECKING:
    from pipelines.eval.run import EvalResult


def _clean(x: float) -> float | None:
    """JSON has no NaN: an undefined figure is null."""
    return None if not math.isfinite(x) else round(x, 6)


def metric_names(rows: list[dict[str, float | None]]) -> list[str]:
    """Every metric of the rows: :data:`METRICS`, then added columns (``reward:RUN``)."""
    extra = [k for k in (rows[0] if rows else {}) if k not in METRICS]
    return [*METRICS, *extra]


def metric_table(rows: list[dict[str, float | None]], seed: int, resamples: int) -> dict:
    """``{metric: {mean, lo, hi, n}}`` over the examples where each metric is defined."""
    out = {}
    for name in metric_names(rows):
        values = [r[name] for r in rows if is_number(r[name])]
        mean, lo, hi = mean_ci(values, seed=seed, resamples=resamples)
        out[name] = {"mean": _clean(mean), "lo": _clean(lo), "hi": _clean(hi), "n": len(values)}
    return out


def comparisons(result: EvalResult) -> list[dict[str, Any]]:
    """Every two systems (in the order given) on the primary metric, paired."""
    cfg = result.config
    higher = METRICS[cfg.primary].better == "higher"
    out = []
    for a, b in combinations([g.spec.name for g in result.generated], 2):
        xa = [row[cfg.primary] for row in result.scores[a]]
        xb = [row[cfg.primary] for row in result.scores[b]]
        p = paired(xa, xb, higher_is_better=higher, seed=cfg.seed, resamples=cfg.resamples)
        d = {k: _clean(v) if isinstance(v, float) else v for k, v in p.to_dict().items()}
        out.append({"a": a, "b": b, "metric": cfg.primary, **d})
    return out


def per_repo(result: EvalResult) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{repo: {system: {metric: mean}}}`` (means over the repo's defined values)."""
    repos = sorted({r["repo"] for r in result.records})
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for repo in repos:
        idx = [i for i, r in enumerate(result.records) if r["repo"] == repo]
        out[repo] = {}
        for name, rows in result.scores.items():
            means = {}
            for m in metric_names(rows):
                vals = [rows[i][m] for i in idx if is_number(rows[i][m])]
                means[m] = _clean(sum(vals) / len(vals)) if vals else None  # type: ignore[arg-type]
            out[repo][name] = means
    return out


def examples(result: EvalResult, systems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The best and the worst ``config.examples`` examples of the system with the best mean
    primary score, with every system's output beside them."""
    cfg = result.config
    k = min(cfg.examples, len(result.records))
    if not k or not systems:
        return []
    sign = 1 if METRICS[cfg.primary].better == "higher" else -1
    lead = max(systems, key=lambda s: sign * (s["metrics"][cfg.primary]["mean"] or 0.0))
    rows = result.scores[lead["name"]]
    order = sorted(range(len(rows)), key=lambda i: (-sign * rows[i][cfg.primary], i))
    picked = order[:k] + [i for i in order[::-1][:k] if i not in order[:k]]
    out = []
    for rank, i in enumerate(picked):
        rec = result.records[i]
        out.append(
            {
                "id": rec["id"],
                "repo": rec["repo"],
                "name": rec.get("qualified_path") or rec["name"],
                "kind": "best" if rank < k else "worst",
                "reference": rec["doc"],
                "outputs": {g.spec.name: g.outputs[i] for g in result.generated},
                "scores": {n: _clean(s[i][cfg.primary]) for n, s in result.scores.items()},
            }
        )
    return out


def curve(systems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checkpoint systems in step order: ``step``, ``system`` and every metric."""
    points = [s for s in systems if s.get("step") is not None]
    return [
        {"step": s["step"], "system": s["name"], "metrics": s["metrics"]}
        for s in sorted(points, key=lambda s: s["step"])
    ]


def summarise(result: EvalResult) -> dict[str, Any]:
    """eval.json's content (see the module docstring)."""
    cfg = result.config
    systems = []
    for g in result.generated:
        entry: dict[str, Any] = {
            "name": g.spec.name,
            "kind": g.spec.kind,
            "target": public_target(g.spec),
            "metrics": metric_table(result.scores[g.spec.name], cfg.seed, cfg.resamples),
            "seconds": round(g.seconds, 3),
        }
        if g.spec.step is not None:
            entry["step"] = g.spec.step
        entry.update(g.extra)
        systems.append(entry)
    return {
        "data": cfg.data,
        "split": cfg.split,
        "n": len(result.records),
        "primary": cfg.primary,
        "seed": cfg.seed,
        "resamples": cfg.resamples,
        "systems": systems,
        "comparisons": comparisons(result),
        "per_repo": per_repo(result),
        "curve": curve(systems),
        "examples": examples(result, systems),
        "definitions": {
            **{m.name: m.definition for m in METRICS.values()},
            **getattr(result, "extra_definitions", {}),
        },
    }
