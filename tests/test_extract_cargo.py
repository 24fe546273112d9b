"""Crate paths as Cargo builds them: targets and workspace members against `cargo metadata`,
module trees, def_path / public_path on a workspace laid out like the seven repositories, and
untrusted layouts (escaping #[path], .git, cycles, symlinks, bad manifests)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.extract import extract_tree
from corpus.extract.cargo import read_layout
from corpus.extract.checkout import Checkout
from corpus.extract.crates import CrateModel
from tests.cargo_fixtures import (
    CARGO_MEMBERS,
    CARGO_TARGETS,
    EXPECTED,
    TRAIT_IMPLS,
    make_workspace,
    mark_chain,
    module_trees,
    write_tree,
)
from tests.gitrepos import make_repo, write_files

SHA = "c" * 40


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ws") / "repo"
    make_workspace(root)
    return root


@pytest.fixture(scope="module")
def records(workspace) -> list[dict]:
    recs, _ = extract_tree(workspace, repo="o/ws", commit=SHA, license="MIT", workers=1)
    return recs


def _targets(layout) -> set[tuple[str, str, str]]:
    return {(t.kind, t.name, t.root) for t in layout.targets}


def test_targets_and_members_are_cargos(workspace) -> None:
    layout = read_layout(Checkout(workspace))
    members = {t for t in _targets(layout) if not t[2].startswith("crates/mexcluded/")}
    assert members == CARGO_TARGETS
    assert sorted(layout.workspaces[""]) == sorted(CARGO_MEMBERS)
    assert any("data/Cargo.toml: not valid TOML" in f for f in layout.findings)


def _cargo() -> str | None:
    found = shutil.which("cargo") or str(Path.home() / ".cargo/bin/cargo")
    return found if os.access(found, os.X_OK) else None


def _cargo_metadata(root: Path, cargo: str) -> tuple[set[tuple[str, str, str]], list[str]]:
    out = subprocess.run(
        [cargo, "metadata", "--no-deps", "--offline", "--format-version", "1",
         "--manifest-path", str(root / "Cargo.toml")],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    meta = json.loads(out)
    real = os.path.realpath(root)
    kinds = {"custom-build": "build-script"}
    targets = {
        (kinds.get(t["kind"][0], t["kind"][0]), t["name"], os.path.relpath(t["src_path"], real))
        for p in meta["packages"]
        for t in p["targets"]
    }
    members = [os.path.relpath(os.path.dirname(p["manifest_path"]), real) for p in meta["packages"]]
    return targets, ["" if m == "." else m for m in members]


def test_the_recorded_oracle_is_what_cargo_metadata_says(workspace, tmp_path) -> None:
    # CARGO_TARGETS was recorded from cargo 1.95; where cargo is installed, it is re-asked
    # (on a copy: cargo may write a lock file), so the oracle cannot drift from cargo.
    cargo = _cargo()
    if cargo is None:
        assert CARGO_TARGETS and CARGO_MEMBERS  # the recorded oracle still checks the model
        return
    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy, ignore=shutil.ignore_patterns(".git"))
    targets, members = _cargo_metadata(copy, cargo)
    assert targets == CARGO_TARGETS
    assert sorted(members) == sorted(CARGO_MEMBERS)


def test_every_fn_gets_its_crate_target_and_paths(records) -> None:
    got = {
        (r["path"], r["name"]): (r["crate_name"], r["target_kind"], r["def_path"], r["public_path"])
        for r in records
        if r["name"] != "from"
    }
    for key, want in EXPECTED.items():
        assert got.get(key) == want, key
    assert all(r["qualified_path"] == r["def_path"] for r in records)


def test_trait_impls_keep_their_generics(records) -> None:
    froms = {r["def_path"]: r["public_path"] for r in records if r["name"] == "from"}
    assert froms == TRAIT_IMPLS


def test_untrusted_paths_are_never_read(workspace) -> None:
    model = CrateModel(workspace)
    lib = next(t for t in model.trees if t.target.crate_name == "mylib")
    assert not any(f.startswith(("..", ".git")) or "/.git/" in f for f in lib.files)
    assert lib.files["crates/mylib/src/lib.rs"] == ()  # the #[path = "lib.rs"] cycle: once
    assert {"crates/mylib/src/lib.rs: mod evil", "crates/mylib/src/lib.rs: mod sneaky"} <= set(
        lib.unresolved
    )
    summary = model.summary(sorted(model.checkout.files))
    assert "crates/mylib/tests/ui/fail.rs" in summary["files_in_no_target"]
    assert summary["files_in_several_targets"] == 1  # tests/common/mod.rs


def test_symlinks_inside_count_outside_never(tmp_path) -> None:
    outside = tmp_path / "outside.rs"
    outside.write_text("pub fn stolen() {}\n")
    root = tmp_path / "repo"
    make_repo(root, {
        "Cargo.toml": '[package]\nname = "s"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": '#[path = "alias/real.rs"]\npub mod inside;\n#[path = "out/x.rs"]\nmod out;\n',
        "real/real.rs": "pub fn real() {}\n",
    })  # fmt: skip
    (root / "src" / "alias").symlink_to(root / "real")
    (root / "src" / "out").mkdir()
    (root / "src" / "out" / "x.rs").symlink_to(outside)
    tree = CrateModel(root).trees[0]
    assert tree.files == {"src/lib.rs": (), "real/real.rs": ("inside",)}


def test_malformed_manifests_cost_only_themselves(tmp_path) -> None:
    make_repo(tmp_path / "r", {
        "Cargo.toml": '[workspace]\nmembers = ["good", "bad", "odd"]\n',
        "good/Cargo.toml": '[package]\nname = "good"\nversion = "0.1.0"\n',
        "good/src/lib.rs": "pub fn ok() {}\n",
        "bad/Cargo.toml": "[package\nname = ",
        "bad/src/lib.rs": "pub fn lost() {}\n",
        "odd/Cargo.toml": '[package]\nname = "odd"\nautobins = "x"\n[[test]]\npath = 1\n',
        "odd/src/main.rs": "fn main() {}\n",
        "esc/Cargo.toml": (
            '[package]\nname = "esc"\n[lib]\npath = "../../../../x.rs"\n'
            '[[bin]]\nname = "g"\npath = "../.git/config"\n'
        ),
    })  # fmt: skip
    recs, _ = extract_tree(tmp_path / "r", repo="o/r", commit=SHA, license="MIT", workers=1)
    layout = read_layout(Checkout(tmp_path / "r"))
    assert not [t for t in layout.targets if t.package == "esc"]  # never outside, never .git
    assert [f.split(":")[0] for f in layout.findings] == [
        "bad/Cargo.toml", "esc/Cargo.toml", "esc/Cargo.toml", "odd/Cargo.toml"
    ]  # fmt: skip
    by = {r["name"]: r for r in recs}
    assert (by["ok"]["crate_name"], by["ok"]["target_kind"]) == ("good", "lib")
    assert by["lost"]["target_kind"] is None and by["lost"]["def_path"] == "bad::lost"
    assert (by["main"]["crate_name"], by["main"]["target_kind"]) == ("odd", "bin")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module_trees())
def test_generated_module_trees_resolve_like_rustc(tree) -> None:
    mark_chain(tree)
    files: dict[str, str] = {}
    expect: dict[str, tuple] = {}
    files["src/lib.rs"] = write_tree(tree, "src", files, (), expect)
    files["Cargo.toml"] = '[package]\nname = "gen-crate"\nversion = "0.1.0"\nedition = "2021"\n'
    with tempfile.TemporaryDirectory() as d:
        write_files(Path(d), files)
        recs, _ = extract_tree(Path(d), repo="o/g", commit=SHA, license="MIT", workers=1)
    got = {r["name"]: r for r in recs}
    assert set(got) == set(expect)
    for fn, (mod_path, public) in expect.items():
        r = got[fn]
        want = "::".join(("gen_crate", *mod_path, fn))
        assert (r["def_path"], r["target_kind"]) == (want, "lib")
        assert r["public_path"] == (want if public else None), fn


def test_the_prompt_shows_the_public_module(records) -> None:
    from corpus.prompt import module_of

    by = {(r["path"], r["name"]): r for r in records}
    assert module_of(by[("crates/mylib/src/private/mod.rs", "new")]) == "mylib"
    assert module_of(by[("crates/core/flags/config.rs", "args")]) == "app::flags::config"


def test_the_layout_is_read_once_per_extraction(workspace, tmp_path, monkeypatch) -> None:
    import corpus.extract.crate as crate_mod

    log = tmp_path / "built"  # a file: forked workers' calls count too
    real = crate_mod.CrateModel

    def counting(root):
        with log.open("a") as fh:
            fh.write(f"{root}\n")
        return real(root)

    monkeypatch.setattr(crate_mod, "CrateModel", counting)
    for workers in (1, 2):
        extract_tree(workspace, repo="o/ws", commit=SHA, license="MIT", workers=workers)
    assert len(log.read_text().splitlines()) == 2  # once per run, before the pool forks
    # a lone file with no Cargo.toml in sight walks nothing (corpus generate's case)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.rs").write_text("pub fn f() {}\n")
    ctx = crate_mod.context_for(tmp_path / "src", "x.rs", repo="o/r", commit=SHA, license="MIT")
    assert len(log.read_text().splitlines()) == 2
    assert ctx.target_kind is None and ctx.module_path == "x"


_TOML_VALUES = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from(["", "x", "src/lib.rs", "../a.rs", ".git/config", "lib", "*"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["name", "path"]), inner)
    ),
    max_leaves=6,
)
_KEYS = ["lib", "bin", "test", "example", "bench", "workspace", "dependencies", "target"]
_PKG_KEYS = ["name", "edition", "build", "autobins", "autotests", "autolib", "workspace"]


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.sampled_from(_KEYS), _TOML_VALUES, max_size=4),
    st.dictionaries(st.sampled_from(_PKG_KEYS), _TOML_VALUES, max_size=4),
)
def test_any_manifest_is_read_without_crashing(top, package) -> None:
    import tomli_w

    with tempfile.TemporaryDirectory() as d:
        write_files(Path(d), {
            "Cargo.toml": tomli_w.dumps({**top, "package": package}),
            "src/lib.rs": "pub fn f() {}\n",
            "src/main.rs": "fn main() {}\n",
        })  # fmt: skip
        layout = read_layout(Checkout(d))
        for t in layout.targets:
            assert t.root in Checkout(d).files
