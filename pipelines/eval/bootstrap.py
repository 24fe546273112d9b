"""Confidence intervals by the (paired) percentile bootstrap, seeded and deterministic.

A mean's 95% CI: resample the n examples with replacement ``resamples`` times (numpy's PCG64
seeded with ``seed``), take the mean of each resample, and report the 2.5th and 97.5th
percentiles of those means. A paired comparison resamples the per-example *differences*
a - b with the same indices for both systems, so the CI reflects that both systems saw the
same examples (much tighter than two independent CIs). Every call with the same seed and n
draws the same index matrix: the same resampled sets serve every system and metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Differences at most this large are ties (scores are sums of floats).
TIE_TOLERANCE = 1e-9
DEFAULT_RESAMPLES = 1000
LEVEL = 0.95


def _indices(n: int, resamples: int, seed: int) -> Any:
    import numpy as np

    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def mean_ci(
    values: Any, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES, level: float = LEVEL
) -> tuple[float, float, float]:
    """(mean, lo, hi) of ``values`` with a percentile-bootstrap CI; NaN for no values."""
    import numpy as np

    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return (float("nan"),) * 3
    means = x[_indices(x.size, resamples, seed)].mean(axis=1)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(x.mean()), float(lo), float(hi)


@dataclass(frozen=True)
class Paired:
    """A paired comparison of systems a and b on one metric (wins are a's)."""

    wins: int
    ties: int
    losses: int
    diff: float  # mean of a - b
    lo: float
    hi: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "diff": self.diff,
            "lo": self.lo,
            "hi": self.hi,
        }


def paired(
    a: Any,
    b: Any,
    *,
    higher_is_better: bool = True,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = LEVEL,
) -> Paired:
    """Win/tie/loss of a against b per example, and the bootstrap CI of mean(a - b)."""
    import numpy as np

    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired scores differ in length: {x.shape} vs {y.shape}")
    d = x - y
    better = d if higher_is_better else -d
    wins = int((better > TIE_TOLERANCE).sum())
    losses = int((better < -TIE_TOLERANCE).sum())
    mean, lo, hi = mean_ci(d, seed=seed, resamples=resamples, level=level)
    return Paired(wins, int(d.size) - wins - losses, losses, mean, lo, hi)
