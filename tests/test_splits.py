"""Splits: stable per file, clusters kept whole, ratios near 80/10/10."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.filters import FilterConfig, filter_records
from corpus.schema import SPLITS
from corpus.splits import assign_splits, bucket, split_counts, split_of
from tests.records_factory import make_record

paths = st.text(alphabet="abcdefghij/_.", min_size=1, max_size=20)
repos = st.sampled_from(["a/x", "b/y", "c/z"])


def test_split_of_is_a_pure_function_of_repo_and_path() -> None:
    assert split_of("a/x", "src/lib.rs") == split_of("a/x", "src/lib.rs")
    assert 0 <= bucket("a/x", "src/lib.rs") < 1000
    # The repo is part of the key: the same path in many repos does not all land together.
    assert len({split_of(f"o/r{i}", "src/lib.rs") for i in range(60)}) == 3


def test_ratios_are_near_80_10_10_over_many_paths() -> None:
    counts = Counter(split_of("owner/repo", f"src/m{i}/f{i * 7}.rs") for i in range(20000))
    assert set(counts) == set(SPLITS)
    assert abs(counts["train"] / 20000 - 0.8) < 0.015
    assert abs(counts["validation"] / 20000 - 0.1) < 0.01
    assert abs(counts["test"] / 20000 - 0.1) < 0.01


@given(
    st.dictionaries(st.integers(0, 200), st.tuples(repos, paths), min_size=1, max_size=40),
    st.data(),
)
def test_every_member_takes_its_representatives_split(files: dict, data: st.DataObject) -> None:
    ids = [str(i) for i in sorted(files)]
    # A random partition: each id points at a representative among the ids before it.
    reps: dict[str, str] = {}
    for n, rid in enumerate(ids):
        j = data.draw(st.integers(0, n))
        reps[rid] = reps[ids[j]] if j < n else rid
    fmap = {str(k): v for k, v in files.items()}
    out = assign_splits(fmap, reps)
    for rid, rep in reps.items():
        assert out[rid] == out[rep] == split_of(*fmap[rep])


def _distinct_records(n: int) -> list[dict]:
    return [
        make_record(i, path=f"src/f{i % 13}.rs", doc=f"Doc number {i} about thing {i * 31}.")
        for i in range(n)
    ]


@settings(max_examples=25, deadline=None)
@given(st.sets(st.integers(0, 59), min_size=1))
def test_splits_stable_under_adding_and_removing_other_records(subset: set[int]) -> None:
    recs = _distinct_records(60)
    full = filter_records(recs, FilterConfig()).kept
    part = filter_records([recs[i] for i in sorted(subset)], FilterConfig()).kept
    full_split = dict(zip(full["id"], full["split"], strict=True))
    assert part.height == len(subset)
    for rid, split in zip(part["id"], part["split"], strict=True):
        assert full_split[rid] == split


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 30)), min_size=2, max_size=40))
def test_duplicate_clusters_never_cross_splits(spec: list[tuple[int, int]]) -> None:
    # Records sharing a doc variant are near/exact duplicates; spread over many files.
    long_docs = [
        f"Variant {v} computes the widget frobnication factor for a value and returns it"
        for v in range(6)
    ]
    recs = [
        make_record(i, path=f"src/p{p}.rs", doc=long_docs[v], start_byte=1000 * i)
        for i, (v, p) in enumerate(spec)
    ]
    res = filter_records(recs, FilterConfig())
    rows = (
        res.kept.select("dup_cluster", "split").rows()
        + res.rejects.select("dup_cluster", "split").rows()
    )
    by_cluster: dict[str, set[str]] = {}
    for cluster, split in rows:
        by_cluster.setdefault(cluster, set()).add(split)
    assert all(len(s) == 1 for s in by_cluster.values())
    # One published record per cluster.
    assert res.kept.height == len(by_cluster) == len({v for v, _ in spec})


def test_split_counts_per_repo_and_ratios() -> None:
    out = split_counts([("a/x", "train")] * 8 + [("a/x", "test")] * 2 + [("b/y", "validation")])
    assert (out["train"], out["validation"], out["test"]) == (8, 1, 2)
    assert out["per_repo"]["a/x"] == {"train": 8, "validation": 0, "test": 2}
    assert out["per_repo_ratio"]["a/x"]["train"] == 0.8
