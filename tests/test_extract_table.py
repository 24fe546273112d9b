"""The Arrow path of `corpus extract` (workers send record batches) equals the dict path."""

from __future__ import annotations

import pickle
from pathlib import Path

import pyarrow as pa
import pytest

from corpus.extract.crate import context_for, crate_models
from corpus.extract.crates import CrateModel
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


def test_crate_models_built_in_workers_resolve_as_built_here(roots: list[Path]) -> None:
    def contexts() -> list[tuple]:
        return [
            (c.module_path, c.crate_name, c.target_kind, c.namespace is not None)
            for r in roots
            for rel in ("src/lib.rs", "src/inner.rs", "tests/it.rs", "macros.rs")
            for c in [context_for(r, rel, repo="o/r", commit="a" * 40, license="MIT")]
        ]

    with crate_models(roots, workers=1):
        here = contexts()
    with crate_models(roots, workers=2) as models:
        assert len(models) == 2
        assert contexts() == here
    assert here[0][:3] == ("alpha", "alpha", "lib") and here[0][3]


def test_a_pickled_crate_model_keeps_its_public_namespaces(roots: list[Path]) -> None:
    model = CrateModel(roots[0])
    model.prepare()
    copy = pickle.loads(pickle.dumps(model))
    lib = next(t for t in copy.trees if t.target.kind == "lib")
    assert id(lib) in copy._namespaces  # the prepared namespace, not a fresh one
    fresh = CrateModel(roots[0]).namespace(lib)
    assert copy.namespace(lib).public_paths() == fresh.public_paths()
