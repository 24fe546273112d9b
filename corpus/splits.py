"""Leakage-free train/validation/test splits.

A record's split is a pure function of one (repo, path) pair: the sha256 of ``repo\\0path`` picks
a bucket in [0, 1000), buckets below 800 are train, below 900 validation, the rest test. So
every function of a file lands in the same split, and adding or removing other records never
moves a record. Duplicate clusters are kept whole: every member takes the split of its cluster
representative's file, so near-duplicates never straddle train and test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from corpus.schema import SPLITS

BUCKETS = 1000
#: Cumulative bucket bounds: [0, 800) train, [800, 900) validation, [900, 1000) test.
_BOUNDS = (800, 900, 1000)


def bucket(repo: str, path: str) -> int:
    """The stable bucket in [0, 1000) of one file."""
    digest = hashlib.sha256(f"{repo}\x00{path}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def split_of(repo: str, path: str) -> str:
    """train, validation or test for the file ``path`` of ``repo``."""
    b = bucket(repo, path)
    for name, bound in zip(SPLITS, _BOUNDS, strict=True):
        if b < bound:
            return name
    raise AssertionError("unreachable: bucket out of range")


def assign_splits(
    files: Mapping[str, tuple[str, str]], clusters: Mapping[str, str]
) -> dict[str, str]:
    """Split of every record id.

    ``files`` maps record id -> (repo, path); ``clusters`` maps record id -> the id of its
    cluster representative (which must be in ``files``). Every record takes the split of its
    representative's file.
    """
    out: dict[str, str] = {}
    for rid, rep in clusters.items():
        repo, path = files[rep]
        out[rid] = split_of(repo, path)
    return out


def split_counts(rows: Iterable[tuple[str, str]]) -> dict[str, object]:
    """``splits`` section of stats.json from (repo, split) pairs of the published records."""
    totals = dict.fromkeys(SPLITS, 0)
    per_repo: dict[str, dict[str, int]] = {}
    for repo, split in rows:
        totals[split] += 1
        per_repo.setdefault(repo, dict.fromkeys(SPLITS, 0))[split] += 1
    ratios = {
        repo: {s: round(c[s] / max(1, sum(c.values())), 4) for s in SPLITS}
        for repo, c in sorted(per_repo.items())
    }
    return {**totals, "per_repo": dict(sorted(per_repo.items())), "per_repo_ratio": ratios}
