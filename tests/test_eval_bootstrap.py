"""The bootstrap: deterministic under a seed, its CIs cover what they claim to, comparisons
count wins, ties and losses exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.eval.bootstrap import mean_ci, paired


def test_deterministic_under_a_seed_and_seed_dependent() -> None:
    x = np.random.default_rng(1).normal(size=100)
    assert mean_ci(x, seed=3) == mean_ci(x, seed=3)
    assert mean_ci(x, seed=3)[1:] != mean_ci(x, seed=4)[1:]
    a, b = x + 0.1, x[::-1]
    assert paired(a, b, seed=3) == paired(a, b, seed=3)


def test_ci_brackets_the_mean_and_is_degenerate_for_constants() -> None:
    mean, lo, hi = mean_ci([1.0, 2.0, 3.0, 10.0], seed=0)
    assert mean == 4.0 and lo <= mean <= hi and lo >= 1.0 and hi <= 10.0
    assert mean_ci([5.0] * 7) == (5.0, 5.0, 5.0)
    assert all(np.isnan(v) for v in mean_ci([]))


def test_paired_ci_covers_a_known_difference() -> None:
    rng = np.random.default_rng(7)
    b = rng.uniform(0, 100, size=300)
    noise = rng.normal(0, 5, size=300)
    a = b + 3.0 + (noise - noise.mean())  # a is better by exactly 3 on these examples
    p = paired(a, b, seed=0)
    assert p.diff == pytest.approx(3.0)
    assert p.lo < 3.0 < p.hi and p.lo > 0  # covers the difference, excludes "no difference"
    assert 0.3 < p.hi - p.lo < 2.0  # about 2 x 1.96 x 5 / sqrt(300) = 1.13 wide
    assert p.wins + p.ties + p.losses == 300 and p.wins > p.losses


def test_nominal_coverage_over_many_samples() -> None:
    # 95% intervals for the mean of Exp(1) samples (true mean 1): close to 95% of them cover.
    rng = np.random.default_rng(11)
    hits = 0
    trials = 200
    for t in range(trials):
        x = rng.exponential(1.0, size=60)
        _, lo, hi = mean_ci(x, seed=t, resamples=400)
        hits += lo <= 1.0 <= hi
    assert 0.88 <= hits / trials <= 0.99


def test_win_tie_loss_by_hand() -> None:
    a, b = [1.0, 2.0, 3.0, 3.0], [0.0, 2.0, 4.0, 1.0]
    p = paired(a, b)
    assert (p.wins, p.ties, p.losses) == (2, 1, 1)
    assert p.diff == pytest.approx(0.5)
    q = paired(a, b, higher_is_better=False)  # e.g. invented identifiers: fewer is better
    assert (q.wins, q.ties, q.losses) == (1, 1, 2) and q.diff == pytest.approx(0.5)
    with pytest.raises(ValueError, match="differ in length"):
        paired([1.0], [1.0, 2.0])


scores = st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(scores, st.integers(0, 2**16))
def test_swapping_the_systems_mirrors_the_comparison(xs: list[float], seed: int) -> None:
    ys = xs[::-1]
    ab, ba = paired(xs, ys, seed=seed), paired(ys, xs, seed=seed)
    assert (ab.wins, ab.ties, ab.losses) == (ba.losses, ba.ties, ba.wins)
    assert ab.diff == pytest.approx(-ba.diff, abs=1e-9)
    assert ab.lo == pytest.approx(-ba.hi, abs=1e-9) and ab.hi == pytest.approx(-ba.lo, abs=1e-9)
    assert ab.lo <= ab.diff + 1e-9 and ab.diff <= ab.hi + 1e-9
