"""A hostile repository built beside a clean one, as an attacker would have it: nothing of
theirs runs, nothing from `.git` or outside the tree is published, nothing blocks the build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from corpus.sources import Source, write_sources
from tests.build_fixtures import FAKE_BASE
from tests.gitrepos import make_rust_repo
from tests.hostile import GIT_LEAK_SIGNS, OUTSIDE_SECRET, Hostile, arm, make_hostile_repo

ROOT = Path(__file__).resolve().parent.parent


class World:
    """The clean and hostile upstreams, their sources file and the git config mapping them."""

    def __init__(self, tmp: Path) -> None:
        origin = tmp / "origin"
        self.markers = tmp / "markers"
        self.hostile: Hostile = make_hostile_repo(origin / "acme" / "hostile.git", self.markers)
        clean = make_rust_repo(origin / "acme" / "clean.git", name="clean")
        self.sources = [
            Source("acme/clean", f"{FAKE_BASE}acme/clean.git", clean, "MIT", "master"),
            Source(
                "acme/hostile", f"{FAKE_BASE}acme/hostile.git", self.hostile.commit, "MIT", "master"
            ),
        ]
        self.sources_file = tmp / "sources.toml"
        write_sources(self.sources_file, self.sources)
        self.clean_only = tmp / "clean-only.toml"
        write_sources(self.clean_only, self.sources[:1])
        self.gitconfig = tmp / "gitconfig"
        self.gitconfig.write_text(f'[url "file://{origin}/"]\n\tinsteadOf = {FAKE_BASE}\n')

    def run(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        env = {**os.environ, "GIT_CONFIG_GLOBAL": str(self.gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
               "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1"}  # fmt: skip
        env.pop("CORPUS_CACHE_DIR", None)
        cmd = [sys.executable, "-c", "from corpus.cli import main; main()", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)

    def build(
        self, out: Path, cache: Path, sources: Path | None = None
    ) -> subprocess.CompletedProcess:
        return self.run("build", "--sources", str(sources or self.sources_file), "--out",
                        str(out), "--cache-dir", str(cache), "-j", "2")  # fmt: skip


def _records(ds: Path) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in sorted((ds / "data").glob("*.parquet"))])


def _no_leak_anywhere(tree: Path) -> None:
    for p in tree.rglob("*"):
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            assert OUTSIDE_SECRET.encode() not in data, p
            for sign in GIT_LEAK_SIGNS:
                assert sign.encode() not in data, (p, sign)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def built(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("built")
    out, cache = tmp / "out", tmp / "cache"
    proc = world.build(out, cache)
    return out, cache, proc.stderr + proc.stdout + f"\nexit {proc.returncode}"


#: What a two-repository fixture of a dozen records cannot meet, and nothing else: too few
#: repositories, one repository over 40% of the balanced config, splits of 10 records.
SMALL_FIXTURE_MISSES = {"distribution.repo_count", "distribution.repo_share",
                        "distribution.split_ratios"}  # fmt: skip


def test_the_build_finishes_and_nothing_of_theirs_ran(world: World, built) -> None:
    out, _cache, log = built
    assert log.endswith(("exit 0", "exit 3")), log
    assert world.hostile.markers_left() == []
    report = json.loads((out / "dataset" / "falsification.json").read_text())
    failed = {c["id"] for c in report["checks"] if not c["passed"]}
    assert failed <= SMALL_FIXTURE_MISSES, failed
    stats = json.loads((out / "dataset" / "stats.json").read_text())
    assert stats["filters"]["control_characters"] == 1  # the doc with escape sequences


def test_nothing_from_git_or_outside_the_tree_is_in_any_output(built) -> None:
    out, _cache, _ = built
    _no_leak_anywhere(out)


def test_hostile_records_are_refused_or_kept_as_text(built) -> None:
    out, _cache, _ = built
    df = _records(out / "dataset").filter(pl.col("repo") == "acme/hostile")
    by_name = {r["name"]: r for r in df.to_dicts()}
    for name in ("leak_config", "leak_reflog", "leak_symlink", "leak_outside"):
        assert name not in by_name or by_name[name]["doc"] is None, name
    assert not any(r["path"] == "src/linked.rs" for r in by_name.values())
    paths = set(df["path"].to_list())
    assert not any("\n" in p or "\x1b" in p for p in paths)
    stats = json.loads((out / "dataset" / "stats.json").read_text())
    assert stats["repos"]["acme/hostile"]["drops"]["bad_path"] == 2
    odd = [r for r in by_name.values() if r["path"] == "src/sp ace [x] `q`.rs"]
    for r in odd:
        assert "src/sp%20ace%20%5Bx%5D%20%60q%60.rs" in r["permalink"]


def test_the_clean_repo_is_untouched_by_its_neighbour(world: World, built, tmp_path: Path) -> None:
    out, _cache, _ = built
    alone = tmp_path / "alone"
    proc = world.build(alone, tmp_path / "cache", world.clean_only)
    assert proc.returncode in (0, 3), proc.stderr
    cols = ["id", "split", "signature", "doc", "source", "permalink"]
    mixed = _records(out / "dataset").filter(pl.col("repo") == "acme/clean").select(cols)
    assert mixed.sort("id").equals(_records(alone / "dataset").select(cols).sort("id"))


def test_a_tampered_cache_is_recloned_and_runs_nothing(world: World, built, tmp_path) -> None:
    out, cache, _ = built
    # The suite reading an armed checkout runs nothing of it.
    arm(cache / "acme" / "hostile" / ".git", world.markers)
    res = world.run("falsify", str(out / "dataset"), "--sources-dir", str(cache), "--out",
                    str(tmp_path / "report"))  # fmt: skip
    assert res.returncode in (0, 3), res.stdout + res.stderr
    assert world.hostile.markers_left() == []

    # Nor does the clone that finds it: the checkout is cloned afresh, saying why.
    proc = world.run("clone", "--sources", str(world.sources_file), "--cache-dir", str(cache))
    assert proc.returncode == 0, proc.stderr
    assert "settings corpus never writes" in " ".join((proc.stderr + proc.stdout).split())
    assert world.hostile.markers_left() == []
    assert "evil" not in (cache / "acme" / "hostile" / ".git" / "config").read_text()

    # And a build from the recloned cache publishes exactly what it did.
    before = _records(out / "dataset")
    proc = world.build(tmp_path / "again", cache)
    assert proc.returncode in (0, 3), proc.stderr
    assert _records(tmp_path / "again" / "dataset").equals(before)
    assert world.hostile.markers_left() == []


def test_extract_on_an_armed_checkout_runs_nothing_and_leaks_nothing(
    world: World, tmp_path
) -> None:
    out = tmp_path / "x"
    proc = world.run("extract", str(world.hostile.repo), "--out", str(out), "-j", "2")
    assert proc.returncode == 0, proc.stderr
    assert world.hostile.markers_left() == []
    _no_leak_anywhere(out)
    df = pl.read_parquet(out / "records.parquet")
    fine = df.filter(pl.col("name") == "included_fine").to_dicts()[0]
    assert fine["doc"] == "An included doc that is fine to read."
    assert df.filter(pl.col("name") == "deep").height == 1  # 3,000 nested modules
    stats = json.loads((out / "stats.json").read_text())
    assert stats["drops"]["bad_path"] == 2
