"""The Arrow path of `corpus extract` (workers send record batches) equals the dict path."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from corpus.extract.run import jobs_for
from corpus.extract.table import run_jobs_table, sorted_table
from corpus.extract.tree import record_counts, repo_stats, run_jobs
from corpus.schema import EXTRACT_SCHEMA
from corpus.store import to_table, write_parquet
from tests.gitrepos import SAMPLE_LIB, write_files


def _crate(root: Path, name: str) -> Path:
    files: dict[str, str | bytes] = {
        "Cargo.toml": f'[package]\nname = "{name}"\n',
        "src/lib.rs": SAMPLE_LIB + "pub mod inner;\npub use inner::g0 as reexported;\n",
        "src/inner.rs": "/// Inner.\npub fn g0() {}\n",
        "src/bad_utf8.rs": b"/// caf\xe9\nfn f() {}\n",
        "src/partial.rs": "/// Ok.\nfn ok() {}\nfn broken(x: ) -> { }\n",
        "tests/it.rs": "#[test]\nfn it_works() {}\n",
        "macros.rs": "m! { /// In a macro.\n fn in_macro() {} }\n",
    }
    for i in range(10):
        files[f"src/m{i}.rs"] = f"/// Doc {i}.\npub fn f{i}(x: u32) -> u32 {{ x + {i} }}\n"
    write_files(root, files)
    return root


@pytest.fixture
def roots(tmp_path: Path) -> list[Path]:
    # two checkouts whose files share paths (src/lib.rs ...): rows of both interleave
    return [_crate(tmp_path / "a", "alpha"), _crate(tmp_path / "b", "beta")]


@pytest.mark.parametrize("workers", [1, 2])
def test_table_path_equals_dict_path_row_for_row_and_byte_for_byte(
    roots: list[Path], tmp_path: Path, workers: int
) -> None:
    jobs = jobs_for(roots, "o/r", "a" * 40, "MIT")
    # the same batches: rows equal in every sort column (the two crates' copies of a fn)
    # keep the order their batches came in, on either path
    records, drops, errored = run_jobs(jobs, workers)
    res = run_jobs_table(jobs, workers)
    assert res.table.schema == EXTRACT_SCHEMA
    assert res.table.equals(to_table(records))
    assert (res.drops, res.errored, res.counts) == (drops, errored, record_counts(records))
    write_parquet(tmp_path / "dicts.parquet", records)
    write_parquet(tmp_path / "table.parquet", res.table)
    assert (tmp_path / "dicts.parquet").read_bytes() == (tmp_path / "table.parquet").read_bytes()
    assert repo_stats(records, len(jobs), "c", "MIT", drops, errored)["macro_records"] == 2


def test_progress_counts_every_file(roots: list[Path]) -> None:
    jobs = jobs_for(roots, "o/r", "a" * 40, "MIT")
    for workers in (1, 2):
        seen: list[int] = []
        run_jobs_table(jobs, workers, seen.append)
        assert sum(seen) == len(jobs)


def test_sorted_table_keeps_the_order_of_ties_and_handles_nothing() -> None:
    assert sorted_table([]).equals(EXTRACT_SCHEMA.empty_table())
    row = to_table(run_jobs([], 1)[0]).to_pylist()
    assert row == []
    base = {n: None for n in EXTRACT_SCHEMA.names}
    recs = [
        {**base, "repo": "r", "path": p, "start_byte": s, "end_byte": 9, "origin": "source",
         "id": i}
        for i, (p, s) in enumerate([("b", 1), ("a", 5), ("a", 1), ("a", 5)])
    ]  # fmt: skip
    tables = [pa.Table.from_pylist(recs[:2]), pa.Table.from_pylist(recs[2:])]
    assert sorted_table(tables)["id"].to_pylist() == [2, 1, 3, 0]


def test_models_built_in_workers_resolve_as_built_here(roots: list[Path]) -> None:
    # one process builds the models before extracting; two build them in their workers
    jobs = jobs_for(roots, "o/r", "a" * 40, "MIT")
    here, pooled = run_jobs_table(jobs, 1).table, run_jobs_table(jobs, 2).table
    assert pooled.equals(here)
    lib = [r for r in here.to_pylist() if r["path"] == "src/inner.rs"]
    assert [(r["crate_name"], r["target_kind"], r["public_path"]) for r in lib] == [
        ("alpha", "lib", "alpha::inner::g0"),
        ("beta", "lib", "beta::inner::g0"),
    ]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("first", ["a", "b"])
def test_rows_equal_in_every_sort_column_keep_the_order_of_their_checkouts(
    roots: list[Path], workers: int, first: str
) -> None:
    # the two crates' copies of each fn sort equal: the checkout given first comes first,
    # however the pool split and ran the batches
    ordered = roots if first == "a" else roots[::-1]
    jobs = jobs_for(ordered, "o/r", "a" * 40, "MIT")
    want = ["alpha", "beta"] if first == "a" else ["beta", "alpha"]
    for rows in (run_jobs_table(jobs, workers).table.to_pylist(), run_jobs(jobs, workers)[0]):
        pairs: dict[tuple, list[str]] = {}
        for r in rows:
            pairs.setdefault((r["path"], r["start_byte"], r["end_byte"], r["origin"]), []).append(
                r["crate_name"]
            )
        told = [v for v in pairs.values() if len(set(v)) > 1]  # the crates' own copies
        assert len(told) >= 10 and all(v == want for v in told)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_gone_after_listing_is_counted_not_fatal(roots: list[Path], workers: int) -> None:
    jobs = jobs_for(roots, "o/r", "a" * 40, "MIT")
    (roots[0] / "src" / "m3.rs").unlink()  # listed, then removed before the batches are sized
    res = run_jobs_table(jobs, workers)
    assert res.drops["unreadable_file"] == 1
    assert sorted(res.table["name"].to_pylist()).count("f3") == 1  # beta's copy only
    assert run_jobs(jobs, workers)[1]["unreadable_file"] == 1


def test_files_given_one_by_one_tie_in_checkout_order_at_any_workers(tmp_path: Path) -> None:
    # each file given on its own is its own checkout's job: x/f0.rs and y/f0.rs tie in every
    # sort column, and the checkouts' jobs interleave in the order given
    for d in "xy":
        write_files(tmp_path / d, {f"f{i}.rs": f"pub fn {d}{i}() {{}}\n" for i in range(5)})
    order = ["x0", "y0", "y1", "x1", "x2", "y2", "y3", "x3", "x4", "y4"]
    paths = [tmp_path / n[0] / f"f{n[1]}.rs" for n in order]
    jobs = jobs_for(paths, "o/r", "a" * 40, "MIT")
    want = ["x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"]  # x came first
    for workers in (1, 2, 3):
        assert run_jobs_table(jobs, workers).table["name"].to_pylist() == want
        assert [r["name"] for r in run_jobs(jobs, workers)[0]] == want
