"""Per-repository sampling weights: balance is a choice at training time, not a deletion.

A record's chance of being drawn scales with its repository's weight (``mixture``; unlisted
repositories weigh 1) and with temperature sampling over repositories (shares proportional
to ``n ** (1 / T)``; ``T = 1`` keeps the natural shares). The training set keeps its size:
each repository's target count is its share of it (largest remainders), reached by drawing
its records without replacement, repeating the whole set first when it needs more than it
has. Everything is seeded, so a recipe always trains on the same examples.
"""

from __future__ import annotations

import math
import random
from typing import Any

from corpus.errors import BadInputError


def check_mixture(mixture: dict[str, float], repos: set[str]) -> None:
    """Every weighted repository is in the data, every weight a number >= 0, not all zero."""
    unknown = sorted(set(mixture) - repos)
    if unknown:
        raise BadInputError(
            f"mixture names {', '.join(unknown)}, not in the training data "
            f"(repositories: {', '.join(sorted(repos))})"
        )
    bad = [r for r, w in mixture.items() if not isinstance(w, int | float) or w < 0]
    if bad:
        raise BadInputError(f"mixture weights must be numbers >= 0 (see {', '.join(bad)})")
    if repos and all(mixture.get(r, 1.0) == 0 for r in repos):
        raise BadInputError("mixture gives every repository weight 0: nothing to train on")


def target_counts(
    counts: dict[str, int], mixture: dict[str, float], temperature: float
) -> dict[str, int]:
    """How many examples of each repository a training set of the same size draws."""
    weights = {r: mixture.get(r, 1.0) * n ** (1.0 / temperature) for r, n in counts.items()}
    total_w = sum(weights.values())
    size = sum(counts.values())
    exact = {r: size * w / total_w for r, w in weights.items()}
    out = {r: math.floor(x) for r, x in exact.items()}
    left = size - sum(out.values())
    for r in sorted(exact, key=lambda r: (-(exact[r] - out[r]), r))[:left]:
        out[r] += 1
    return out


def apply_mixture(
    records: list[dict[str, Any]], mixture: dict[str, float], temperature: float, seed: int
) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """(the resampled records, repo -> {records, examples}); unchanged without weights."""
    by_repo: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_repo.setdefault(r["repo"], []).append(r)
    check_mixture(mixture, set(by_repo))
    counts = {r: len(v) for r, v in by_repo.items()}
    if not mixture and temperature == 1.0:
        return records, {r: {"records": n, "examples": n} for r, n in sorted(counts.items())}
    targets = target_counts(counts, mixture, temperature)
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for repo in sorted(by_repo):
        recs, want = by_repo[repo], targets[repo]
        whole, rest = divmod(want, len(recs))
        out += recs * whole + rng.sample(recs, rest)
    rng.shuffle(out)
    summary = {r: {"records": counts[r], "examples": targets[r]} for r in sorted(counts)}
    return out, summary
