"""Splits: whole files and clusters, per-repo 80/10/10 where sizes allow, sticky across builds."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.errors import BadInputError
from corpus.filters import FilterConfig, filter_records
from corpus.schema import SPLITS
from corpus.splits import TARGETS, SplitManifest, assign_splits, place_files
from tests.records_factory import make_record

repos = st.sampled_from(["a/x", "b/y", "c/z"])
#: (repo, path) -> published records in the file
file_counts = st.dictionaries(
    st.tuples(repos, st.integers(0, 400).map(lambda i: f"src/f{i}.rs")),
    st.integers(1, 4),
    min_size=1,
    max_size=120,
)


def _shares(manifest: SplitManifest, counts: dict) -> dict[str, dict[str, float]]:
    per: dict[str, Counter] = {}
    for (repo, path), n in counts.items():
        per.setdefault(repo, Counter())[manifest.get(repo, path)] += n
    return {r: {s: c[s] / sum(c.values()) for s in SPLITS} for r, c in per.items()}


@settings(max_examples=80, deadline=None)
@given(file_counts)
def test_every_file_is_placed_and_repos_sit_near_80_10_10(counts: dict) -> None:
    manifest, placed = place_files(counts)
    assert sorted(placed) == sorted(counts) and len(manifest) == len(counts)
    for repo, shares in _shares(manifest, counts).items():
        files = {k: n for k, n in counts.items() if k[0] == repo}
        total = sum(files.values())
        if total < 20:
            continue
        # As close as file granularity allows: within 3 points or the largest file's share.
        tol = max(0.03, max(files.values()) / total)
        for split in SPLITS:
            assert abs(shares[split] - TARGETS[split]) <= tol + 1e-9, (repo, shares, tol)


@settings(max_examples=60, deadline=None)
@given(file_counts, file_counts)
def test_files_already_placed_never_move(first: dict, later: dict) -> None:
    # A later build (files added, removed, grown) keeps every file the first one placed —
    # including files that disappeared, so one that comes back returns to its split.
    m1, _ = place_files(first)
    grown = {**later, **{k: n + 3 for k, n in first.items() if k in later}}
    m2, placed = place_files(grown, m1)
    for repo, paths in m1.files.items():
        for path, split in paths.items():
            assert m2.get(repo, path) == split
    assert set(placed) == set(grown) - set(first)


def test_one_new_file_moves_no_existing_file() -> None:
    counts = {("a/x", f"src/f{i}.rs"): 1 + i % 3 for i in range(60)}
    m1, _ = place_files(counts)
    m2, placed = place_files({**counts, ("a/x", "src/new.rs"): 5}, m1)
    assert placed == [("a/x", "src/new.rs")]
    assert {k: m2.get(*k) for k in counts} == {k: m1.get(*k) for k in counts}


def test_placement_is_deterministic_whatever_the_input_order() -> None:
    counts = {("a/x", f"src/f{i}.rs"): 1 + i % 5 for i in range(50)}
    shuffled = dict(reversed(list(counts.items())))
    assert place_files(counts)[0].to_json() == place_files(shuffled)[0].to_json()


def test_the_largest_file_goes_to_train_and_small_ones_fill_validation_and_test() -> None:
    counts = {("a/x", "src/big.rs"): 30, **{("a/x", f"src/s{i}.rs"): 1 for i in range(20)}}
    m, _ = place_files(counts)
    assert m.get("a/x", "src/big.rs") == "train"
    per = Counter(m.get(*k) * n for k, n in counts.items() for _ in [0])
    shares = _shares(m, counts)["a/x"]
    assert abs(shares["validation"] - 0.1) < 0.03 and abs(shares["test"] - 0.1) < 0.03, per


def test_cluster_members_take_their_representatives_file_split() -> None:
    files = {"r1": ("a/x", "src/a.rs"), "r2": ("a/x", "src/b.rs"), "r3": ("b/y", "src/c.rs")}
    manifest = SplitManifest({"a/x": {"src/a.rs": "test", "src/b.rs": "train"},
                              "b/y": {"src/c.rs": "validation"}})  # fmt: skip
    out = assign_splits(files, {"r1": "r1", "r2": "r1", "r3": "r3"}, manifest)
    assert out == {"r1": "test", "r2": "test", "r3": "validation"}


def _records(n: int, files: int) -> list[dict]:
    return [
        make_record(
            i,
            path=f"src/f{i % files}.rs",
            doc=f"Doc number {i} about thing {i * 31}.",
            start_byte=1000 * i,
        )
        for i in range(n)
    ]


@settings(max_examples=20, deadline=None)
@given(st.integers(20, 120), st.integers(5, 40))
def test_a_file_and_a_cluster_never_straddle_splits(n: int, files: int) -> None:
    recs = _records(n, files)
    # an exact copy of the first record's source, in another file: a cluster across two files
    twin = make_record(10**6, path="src/twin.rs", source=recs[0]["source"], doc=recs[0]["doc"])
    res = filter_records([*recs, twin], FilterConfig())
    by_file: dict[str, set[str]] = {}
    for path, split in res.kept.select("path", "split").iter_rows():
        by_file.setdefault(path, set()).add(split)
    assert all(len(v) == 1 for v in by_file.values())
    rejects = {
        r["path"]: r["split"] for r in res.rejects.to_dicts() if r["reason"] != "undocumented"
    }
    assert rejects.get("src/twin.rs") == res.manifest.get("acme/widgets", "src/f0.rs")


def test_the_filter_keeps_files_of_a_previous_manifest_in_their_split() -> None:
    recs = _records(60, 30)
    first = filter_records(recs, FilterConfig())
    moved = SplitManifest({r: {p: ("test" if s == "train" else "train") for p, s in paths.items()}
                           for r, paths in first.manifest.files.items()})  # fmt: skip
    again = filter_records(recs, FilterConfig(), moved)
    for repo, path, split in again.kept.select("repo", "path", "split").iter_rows():
        assert split == moved.get(repo, path)
    assert again.new_files == 0 and first.new_files == 30


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("[]", "not a split manifest"),
        ('{"version": 9, "files": {}}', "not a split manifest"),
        ('{"version": 1, "files": []}', "'files' must map"),
        ('{"version": 1, "files": {"a/x": {"src/a.rs": "dev"}}}', "must map paths to one of"),
    ],
)
def test_a_bad_manifest_is_one_clear_error(tmp_path, content: str, why: str) -> None:
    f = tmp_path / "split_manifest.json"
    f.write_text(content)
    with pytest.raises(BadInputError, match=why):
        SplitManifest.read(f)
    f.write_text("{not json")
    with pytest.raises(BadInputError, match="not valid JSON"):
        SplitManifest.read(f)


def test_the_manifest_round_trips_sorted() -> None:
    m = SplitManifest({"b/y": {"z.rs": "test", "a.rs": "train"}, "a/x": {"m.rs": "validation"}})
    text = json.dumps(m.to_json())
    assert SplitManifest.from_json(json.loads(text)).files == m.files
    assert list(m.to_json()["files"]) == ["a/x", "b/y"]
    assert list(m.to_json()["files"]["b/y"]) == ["a.rs", "z.rs"]
