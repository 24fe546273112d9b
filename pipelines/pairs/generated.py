"""The ``model`` rejection kind: a model's own generation, kept when it is worse than the doc.

"Worse" is judged by `corpus eval`'s metrics (``pipelines.eval.metrics.score``): the
generation and the reference doc itself are both scored against the record; the generation
becomes a rejection when it is no better than the reference on any metric and worse on at
least one (``length_ratio`` is left out: closeness to 1 is no ranking). A generation that
beats the reference anywhere (say it names a parameter the real doc does not) is ambiguous
and is not used: a preference pair must be a preference the metrics agree with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.prompt import doc_as_comment
from pipelines.pairs.kinds import Rejection

#: Score differences smaller than this are ties (float noise in chrF/ROUGE).
EPS = 1e-9


@dataclass(frozen=True)
class ModelSource:
    """What generates: a base model (``base:``) or an adapter on its base, and how."""

    model: str | None = None
    adapter: Path | None = None
    bits: int | None = None
    device: str = "auto"
    batch_size: int = 8
    max_new_tokens: int = 256

    @property
    def label(self) -> str:
        """How pairs.json names the generator."""
        return f"adapter:{self.adapter}" if self.adapter else f"base:{self.model}"


def worse_on(
    generated: dict[str, float | None], reference: dict[str, float | None]
) -> list[str] | None:
    """The metrics on which a generation is worse than the reference, or None when it is
    better on any (or worse on none): then it is no rejection."""
    from pipelines.eval.metrics import METRICS, is_number

    worse = []
    for name, metric in METRICS.items():
        g, r = generated.get(name), reference.get(name)
        if metric.better == "one" or not (is_number(g) and is_number(r)):
            continue
        sign = 1.0 if metric.better == "higher" else -1.0
        diff = sign * (g - r)  # type: ignore[operator]
        if diff > EPS:
            return None
        if diff < -EPS:
            worse.append(name)
    return worse or None


def model_rejections(
    records: list[dict[str, Any]], outputs: list[str], everything: list[dict[str, Any]]
) -> tuple[dict[str, Rejection], dict[str, int]]:
    """(record id -> rejection, counts) for the generations the metrics rank below the doc.

    ``everything``: every record of the dataset (for ``invented_ids``' known names)."""
    from pipelines.eval.metrics import KnownNames, score

    known = KnownNames(everything)
    kept: dict[str, Rejection] = {}
    stats = {"generated": len(outputs), "kept": 0, "not_worse": 0}
    for rec, raw in zip(records, outputs, strict=True):
        worse = worse_on(score(raw, rec, known), score(doc_as_comment(rec["doc"]), rec, known))
        if worse is None:
            stats["not_worse"] += 1
            continue
        kept[rec["id"]] = Rejection("model", raw, "below the reference on " + ", ".join(worse))
        stats["kept"] += 1
    return kept, stats


def generate(
    records: list[dict[str, Any]],
    source: ModelSource,
    spec: Any,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Greedy generations for ``records`` with the model (prompted with ``spec``, the pairs'
    prompt, so the rejection answers the very prompt of the pair)."""
    from pipelines.train.inference import load_engine

    adapters = {"gen": source.adapter} if source.adapter else {}
    engine = load_engine(
        adapters, base=source.model, bits=source.bits, device=source.device, base_spec=spec
    )
    if adapters:
        engine.specs["gen"] = spec
    return engine.generate(
        records,
        adapter="gen" if adapters else None,
        max_new_tokens=source.max_new_tokens,
        batch_size=source.batch_size,
        progress=progress,
    )
