"""`corpus extract` end to end: broken trees, missing paths, determinism, pool == one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from corpus.cli import app
from corpus.extract import extract_tree
from corpus.schema import EXTRACT_COLUMNS
from tests.gitrepos import SAMPLE_LIB, write_files

runner = CliRunner()


def _tree(root: Path) -> Path:
    files: dict[str, str | bytes] = {
        "Cargo.toml": '[package]\nname = "demo"\n',
        "src/lib.rs": SAMPLE_LIB,
        "src/bad_utf8.rs": b"/// caf\xe9\nfn f() {}\n",
        "src/garbage.rs": "@@ ## $$ %% ^^ " * 200,
        "src/partial.rs": "/// Ok.\nfn ok() {}\nfn broken(x: ) -> { }\n",
        "tests/it.rs": "#[test]\nfn it_works() {}\n",
    }
    for i in range(12):  # enough files for the pool to really split work
        files[f"src/m{i}.rs"] = f"/// Doc {i}.\npub fn f{i}(x: u32) -> u32 {{ x + {i} }}\n"
    write_files(root, files)
    return root


def test_broken_tree_reports_counts_and_succeeds(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    out = tmp_path / "out"
    res = runner.invoke(app, ["extract", str(src), "--out", str(out), "--repo", "o/demo"])
    assert res.exit_code == 0, res.output
    stats = json.loads((out / "stats.json").read_text())
    assert stats["drops"] == {"fn_with_error": 1, "mostly_error_file": 1, "non_utf8_file": 1}
    assert "non_utf8_file" in res.output and "records" in res.output
    df = pl.read_parquet(out / "records.parquet")
    assert tuple(df.columns) == EXTRACT_COLUMNS
    assert stats["totals"]["records"] == df.height
    names = set(df["name"])
    assert {"ok", "add_one", "it_works", "f0", "f11"} <= names and "broken" not in names
    assert df.filter(pl.col("name") == "it_works")["test_reason"].to_list() == ["attribute:test"]


def test_missing_path_exits_2_with_message(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "corpus.cli",
            "extract",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "no such file or directory" in proc.stderr and "nope" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_output_is_byte_identical_across_runs_and_worker_counts(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    outs = []
    for i, workers in enumerate(("1", "2", "2")):
        out = tmp_path / f"out{i}"
        res = runner.invoke(app, ["extract", str(src), "--out", str(out), "-j", workers])
        assert res.exit_code == 0, res.output
        outs.append(((out / "records.parquet").read_bytes(), (out / "stats.json").read_bytes()))
    assert outs[0] == outs[1] == outs[2]


def test_pool_equals_single_process_records(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    one, s1 = extract_tree(src, repo="o/r", commit="a" * 40, license="MIT", workers=1)
    two, s2 = extract_tree(src, repo="o/r", commit="a" * 40, license="MIT", workers=2)
    assert one == two and s1 == s2


def test_iter_records_yields_the_same_records_in_the_same_order(tmp_path: Path) -> None:
    from corpus.extract import iter_records

    src = _tree(tmp_path / "src")
    listed, _ = extract_tree(src, repo="o/r", commit="a" * 40, license="MIT", workers=1)
    for workers in (1, 2):
        it = iter_records(src, repo="o/r", commit="a" * 40, license="MIT", workers=workers)
        assert not isinstance(it, list)
        assert list(it) == listed


def test_provenance_is_read_from_the_git_checkout(tmp_path: Path) -> None:
    from tests.gitrepos import git, make_rust_repo

    root = tmp_path / "demo"
    sha = make_rust_repo(root)
    git(root, "remote", "add", "origin", "https://github.com/acme/demo.git")
    res = runner.invoke(app, ["extract", str(root), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    df = pl.read_parquet(tmp_path / "o" / "records.parquet")
    assert set(df["repo"]) == {"acme/demo"} and set(df["commit"]) == {sha}
    assert df["permalink"][0].startswith(f"https://github.com/acme/demo/blob/{sha}/src/lib.rs#L")
    assert "warning" not in res.output
    # a dirty tree is extracted, with a warning that it may not match HEAD
    (root / "src" / "lib.rs").write_text("/// Changed.\npub fn changed() {}\n")
    res = runner.invoke(app, ["extract", str(root), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 0 and "uncommitted changes" in " ".join(res.output.split())


def test_unknown_provenance_warns_and_bad_commit_is_refused(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    res = runner.invoke(app, ["extract", str(src), "--out", str(tmp_path / "o")])
    said = " ".join(res.output.split())  # rich wraps long lines
    assert res.exit_code == 0 and "pass --repo OWNER/NAME and --commit SHA" in said
    res = runner.invoke(app, ["extract", str(src), "--out", str(tmp_path / "o"), "--commit", "abc"])
    assert res.exit_code == 2 and "40-character" in " ".join(res.output.split())
