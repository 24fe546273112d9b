"""include_str!/include! docs: read from the tree at the pinned commit, never from .git or
outside the repository, never blocking on a FIFO (corpus/extract/includes.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.extract import context_for, extract_file_bytes
from corpus.extract.includes import include_path, read_include
from tests.gitrepos import git, make_repo

PLAIN_SHA = "b" * 40


def docs_of(root: Path, src: str, commit: str, path: str = "src/lib.rs") -> dict[str, dict]:
    ctx = context_for(root, path, repo="o/r", commit=commit, license="MIT")
    res = extract_file_bytes(src.encode(), path, ctx)
    return {r["name"]: r for r in res.records}


LEAKS = (
    '#[doc = include_str!("../.git/config")]\npub fn config() {}\n'
    '#[doc = include_str!("../.git/logs/HEAD")]\npub fn reflog() {}\n'
    '#[doc = include_str!("../link.md")]\npub fn link() {}\n'
    '#[doc = include_str!("../linkdir/x.md")]\npub fn linkdir() {}\n'
    '#[doc = include_str!("../../outside.md")]\npub fn outside() {}\n'
    '#[doc = include_str!("/etc/hostname")]\npub fn absolute() {}\n'
    '#[doc = include_str!("../README.md")]\npub fn fine() {}\n'
)


def _hostile_tree(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    (root / "README.md").write_text("The readme.\n")
    (root.parent / "outside.md").write_text("OUTSIDE-SECRET")
    os.symlink(".git/config", root / "link.md")
    os.symlink("..", root / "linkdir")


def _assert_only_readme(recs: dict[str, dict]) -> None:
    assert recs["fine"]["doc"] == "The readme."
    for name in ("config", "reflog", "link", "linkdir", "outside", "absolute"):
        assert recs[name]["doc"] is None, name
        assert recs[name]["doc_unresolved"] is True, name


def test_git_checkout_reads_regular_blobs_at_the_commit_only(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _hostile_tree(root)
    (root / "src" / "lib.rs").write_text(LEAKS)
    sha = make_repo(root, {})
    recs = docs_of(root, LEAKS, sha)
    _assert_only_readme(recs)
    text = "".join(str(r["doc"]) for r in recs.values())
    assert "[core]" not in text and "OUTSIDE-SECRET" not in text


def test_git_checkout_reads_the_committed_text_not_the_working_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    sha = make_repo(root, {"README.md": "Committed.\n", "src/lib.rs": ""})
    (root / "README.md").write_text("Edited after the commit.\n")
    (root / "NEW.md").write_text("Untracked.\n")
    src = (
        '#[doc = include_str!("../README.md")]\npub fn f() {}\n'
        '#[doc = include_str!("../NEW.md")]\npub fn g() {}\n'
    )
    recs = docs_of(root, src, sha)
    assert recs["f"]["doc"] == "Committed."
    assert recs["g"]["doc"] is None  # not at the permalink's commit


def test_subdirectory_root_maps_into_the_tree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    sha = make_repo(root, {"crates/a/README.md": "Crate doc.\n", "crates/a/src/lib.rs": ""})
    src = '#[doc = include_str!("../README.md")]\npub fn f() {}\n'
    assert docs_of(root / "crates" / "a", src, sha)["f"]["doc"] == "Crate doc."


def test_plain_tree_goes_through_the_safe_reader(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    _hostile_tree(root)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n\tfsmonitor = touch pwned\n")
    _assert_only_readme(docs_of(root, LEAKS, PLAIN_SHA))


def test_a_fifo_is_unresolved_without_blocking(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "src").mkdir(parents=True)
    os.mkfifo(root / "src" / "pipe.md")
    started = time.monotonic()
    recs = docs_of(root, '#[doc = include_str!("pipe.md")]\npub fn f() {}\n', PLAIN_SHA)
    assert time.monotonic() - started < 5
    assert recs["f"]["doc_unresolved"] is True


def test_an_unknown_commit_in_a_checkout_falls_back_to_the_safe_reader(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repo(root, {"README.md": "Doc.\n"})
    assert read_include(str(root), "c" * 40, "src/lib.rs", "../README.md") == "Doc.\n"
    assert read_include(str(root), "c" * 40, "src/lib.rs", "../.git/HEAD") is None


def test_a_submodule_entry_is_not_a_file(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    make_repo(inner, {"x.md": "Inner.\n"})
    root = tmp_path / "repo"
    make_repo(root, {"README.md": "r\n"})
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
    git(root, "commit", "-q", "-m", "sub")
    sha = git(root, "rev-parse", "HEAD")
    assert read_include(str(root), sha, "src/lib.rs", "../sub/x.md") is None
    assert read_include(str(root), sha, "src/lib.rs", "../README.md") == "r\n"


@pytest.mark.parametrize(
    ("rel", "target", "want"),
    [
        ("src/lib.rs", "../README.md", "README.md"),
        ("src/a/b.rs", "./x/../y.md", "src/a/y.md"),
        ("src/lib.rs", "../../x.md", None),
        ("src/lib.rs", "../.git/config", None),
        ("src/lib.rs", "../.GIT/config", None),
        ("src/lib.rs", "/etc/passwd", None),
        ("src/lib.rs", "", None),
        ("src/lib.rs", "a\0b", None),
        ("lib.rs", "..", None),
    ],
)
def test_include_path_is_lexical(rel: str, target: str, want: str | None) -> None:
    assert include_path(rel, target) == want


_SEG = st.sampled_from(["..", ".", ".git", ".Git", "a", "b", "", "docs"])


@given(
    st.lists(st.sampled_from(["src", "a", "b"]), max_size=3),
    st.lists(_SEG, min_size=1, max_size=6),
)
def test_include_path_never_leaves_the_root_or_enters_git(dirs: list[str], segs: list[str]) -> None:
    got = include_path("/".join([*dirs, "lib.rs"]), "/".join(segs))
    if got is not None:
        parts = got.split("/")
        assert ".." not in parts and "." not in parts and "" not in parts
        assert all(p.lower() != ".git" for p in parts)
