"""The independent crate-layout reader of provenance.paths_resolve: every path the extractor
gives the Cargo fixture (bins elsewhere, tests, #[path], macro-declared modules, re-exports)
resolves from the git blobs, and each kind of wrong path does not."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from corpus.extract import extract_tree
from falsification.cratelayout import CommitLayout
from falsification.gitblobs import SourceRepos
from falsification.pathcheck import def_path_problem, public_path_problem
from tests.cargo_fixtures import make_workspace, mark_chain, module_trees, write_tree
from tests.gitrepos import make_repo


def _layout(sources: Path, repo: str, commit: str) -> CommitLayout:
    repos = SourceRepos(sources)
    files = [p for p in repos.tree_files(repo, commit) if p.endswith((".rs", "Cargo.toml"))]
    blobs = repos.read_blobs(repo, [(commit, p) for p in files])
    return CommitLayout({p: b for (_, p), b in blobs.items()})


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    sources = tmp_path_factory.mktemp("src")
    commit = make_workspace(sources / "o" / "ws")
    recs, _ = extract_tree(sources / "o" / "ws", repo="o/ws", commit=commit, license="MIT")
    return _layout(sources, "o/ws", commit), recs


def _problems(layout: CommitLayout, rec: dict) -> tuple[str | None, str | None]:
    return def_path_problem(layout, rec), public_path_problem(layout, rec)


def test_every_extracted_path_resolves(fixture) -> None:
    layout, recs = fixture
    assert len(recs) > 30
    assert {r["def_path"]: _problems(layout, r) for r in recs if any(_problems(layout, r))} == {}


def _rec(recs: list[dict], path: str, name: str) -> dict:
    return dict(next(r for r in recs if r["path"] == path and r["name"] == name))


@pytest.mark.parametrize(
    ("path", "name", "change", "which"),
    [
        # the defect: the crate as the package, directories as modules
        ("crates/core/flags/config.rs", "args",
         {"def_path": "my_app::crates::core::flags::config::args", "crate_name": "my_app"}, 0),
        ("crates/core/flags/config.rs", "args", {"def_path": "app::config::args"}, 0),
        ("crates/core/flags/config.rs", "args", {"target_kind": "lib"}, 0),
        ("crates/mylib/src/private/mod.rs", "new", {"def_path": "mylib::Thing::new"}, 0),
        ("crates/mylib/src/private/mod.rs", "new", {"def_path": "mylib::private::Other::new"}, 0),
        ("crates/mylib/tests/ui/fail.rs", "main", {"def_path": "crates::mylib::tests::ui::main"}, 0),
        ("crates/mylib/tests/common/mod.rs", "setup", {"target_kind": None}, 0),
        ("crates/mylib/src/private/mod.rs", "new", {"public_path": "mylib::private::Thing::new"}, 1),
        ("crates/mylib/src/private/mod.rs", "new", {"public_path": "mylib::Thing::nope"}, 1),
        ("crates/core/flags/config.rs", "args", {"public_path": "app::flags::config::args"}, 1),
    ],
)  # fmt: skip
def test_each_wrong_path_is_named(fixture, path, name, change, which) -> None:
    layout, recs = fixture
    rec = _rec(recs, path, name)
    assert _problems(layout, rec) == (None, None)
    rec.update(change)
    assert _problems(layout, rec)[which] is not None, change


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module_trees())
def test_generated_trees_resolve_and_a_stray_segment_does_not(tree) -> None:
    mark_chain(tree)
    files: dict[str, str] = {}
    files["src/lib.rs"] = write_tree(tree, "src", files, (), {})
    files["Cargo.toml"] = '[package]\nname = "gen"\nversion = "0.1.0"\nedition = "2021"\n'
    with tempfile.TemporaryDirectory() as d:
        commit = make_repo(Path(d) / "o" / "g", files)
        recs, _ = extract_tree(Path(d) / "o" / "g", repo="o/g", commit=commit, license="MIT")
        layout = _layout(Path(d), "o/g", commit)
    for r in recs:
        assert _problems(layout, r) == (None, None), r["def_path"]
        crate, rest = r["def_path"].split("::", 1)
        assert def_path_problem(layout, {**r, "def_path": f"{crate}::src::{rest}"}) is not None
