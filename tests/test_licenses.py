"""Licences from the repository (corpus.licenses): the agreement rule, detection on plain
folders and on a commit's blobs, hostile trees, workspaces, and the seven sources' own files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.licenses import detect_checkout, detect_commit, record_license, spdx
from corpus.licenses.agreement import agreement
from corpus.sources import load_sources
from tests.gitrepos import git, license_text, make_repo, write_files

SEVEN = Path(__file__).parent / "data" / "licenses" / "seven"

# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("declared", "texts", "status"),
    [
        ("MIT", ["GPL-3.0"], "disagree"),  # the finding: a GPL text, declared MIT
        ("Apache-2.0", ["MIT"], "disagree"),  # declared Apache-2.0, only an MIT file
        ("MIT OR Apache-2.0", ["MIT", "Apache-2.0"], "agree"),
        ("Apache-2.0 OR MIT", ["MIT", "Apache-2.0"], "agree"),
        ("MIT/Apache-2.0", ["Apache-2.0", "MIT"], "agree"),  # Cargo's deprecated slash
        ("Unlicense/MIT", ["MIT", "Unlicense"], "agree"),  # ripgrep's crates/index
        ("mit or apache-2.0", ["MIT", "Apache-2.0"], "agree"),
        ("MIT OR Apache-2.0", ["MIT"], "incomplete"),  # passes: MIT alone is an alternative
        ("MIT AND Apache-2.0", ["MIT"], "disagree"),  # no alternative satisfied
        ("MIT", [], "no-texts"),  # a missing, empty or prose-only licence file
        ("Apache-2.0 WITH LLVM-exception", ["Apache-2.0"], "agree"),
        ("GPL-3.0-or-later", ["GPL-3.0"], "agree"),  # the text cannot say "or later"
        ("GPL-3.0-only", ["GPL-3.0", "GPL-3.0-or-later"], "agree"),  # by family
        ("GPL-2.0+", ["GPL-3.0"], "disagree"),  # strict: GPL-2.0 family, GPL-3.0 text
        ("MIT OR", ["MIT"], "invalid"),
        ("MIT OR Foo-1.0", ["MIT"], "invalid"),  # not on the SPDX list
        ("(MIT", ["MIT"], "invalid"),
    ],
)
def test_agreement_rule(declared: str, texts: list[str], status: str) -> None:
    got = agreement(declared, texts)
    assert got.status == status, got
    assert got.ok == (status in ("agree", "incomplete"))


_POOL = ["MIT", "Apache-2.0", "Unlicense", "BSD-3-Clause", "Zlib"]


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> tuple[str, object]:
    """(an SPDX expression, its tree) of licence ids, ANDs and ORs."""
    if depth >= 2 or draw(st.booleans()):
        key = draw(st.sampled_from(_POOL))
        return key, key
    op = draw(st.sampled_from(["AND", "OR"]))
    parts = draw(st.lists(_expressions(depth + 1), min_size=2, max_size=3))
    return "(" + f" {op} ".join(p[0] for p in parts) + ")", (op, [p[1] for p in parts])


def _holds(tree: object, texts: set[str]) -> bool:
    if isinstance(tree, str):
        return tree in texts
    op, kids = tree  # type: ignore[misc]
    values = [_holds(k, texts) for k in kids]
    return all(values) if op == "AND" else any(values)


def _keys(tree: object) -> set[str]:
    return {tree} if isinstance(tree, str) else {k for kid in tree[1] for k in _keys(kid)}  # type: ignore[index]


@settings(max_examples=150, deadline=None)
@given(_expressions(), st.sets(st.sampled_from(_POOL)))
def test_rule_passes_exactly_when_the_texts_license_it(expr: tuple[str, object], texts: set[str]):
    # An oracle independent of the DNF: evaluate the expression with "a text is present".
    text, tree = expr
    want = bool(texts) and texts <= _keys(tree) and _holds(tree, texts)
    assert agreement(text, sorted(texts)).ok == want


@given(st.lists(st.sampled_from(_POOL), min_size=1, max_size=4, unique=True))
def test_slash_is_or(ids: list[str]) -> None:
    assert spdx.equivalent("/".join(ids), " OR ".join(ids))
    assert spdx.equivalent(" / ".join(reversed(ids)), " OR ".join(ids))


def test_hostile_expressions_are_refused_not_crashing() -> None:
    wide = " AND ".join(f"({a} OR {b})" for a, b in zip(_POOL, _POOL[1:] + _POOL[:1], strict=True))
    for bad in ["", "MIT WITH", "x" * 600, "(" * 300 + "MIT" + ")" * 300, wide + " AND " + wide]:
        with pytest.raises(spdx.ExpressionProblem):
            spdx.parse(bad)
    assert spdx.parse(wide) is not None  # five ORs ANDed: 2**5 alternatives, fine


# --------------------------------------------------------------------------- plain folders

MIT, APACHE, GPL = license_text("MIT"), license_text("Apache-2.0"), license_text("GPL-3.0")


def _cargo(name: str, license_: str | None = None, extra: str = "") -> str:
    lic = f'license = "{license_}"\n' if license_ else ""
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\n{lic}{extra}'


def _folder(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True)
    write_files(root, files)
    return root


def test_gpl_repo_declared_mit_fails_naming_both(tmp_path: Path) -> None:
    root = _folder(tmp_path / "r", {"LICENSE": GPL, "Cargo.toml": _cargo("g", "GPL-3.0-only")})
    got = detect_checkout(root, "MIT")
    assert not got["ok"] and got["status"] == "disagree"
    assert got["detected"] == "GPL-3.0-only" and got["detected_from"] == "Cargo.toml"
    text = " ".join(got["reasons"])
    assert "declared 'MIT'" in text and "LICENSE: GPL-3.0" in text and "'GPL-3.0-only'" in text


def test_declared_apache_with_only_an_mit_file_fails(tmp_path: Path) -> None:
    got = detect_checkout(_folder(tmp_path / "r", {"LICENSE-MIT": MIT}), "Apache-2.0")
    assert not got["ok"] and got["status"] == "disagree"
    assert "declared 'Apache-2.0', detected LICENSE-MIT: MIT" in got["reasons"][0]


def test_dual_licence_with_both_texts_and_slash_cargo_passes(tmp_path: Path) -> None:
    files = {
        "LICENSE-MIT": MIT,
        "LICENSE-APACHE": APACHE,
        "Cargo.toml": _cargo("d", "MIT/Apache-2.0"),
    }
    got = detect_checkout(_folder(tmp_path / "r", files), "MIT OR Apache-2.0")
    assert got["ok"] and got["status"] == "agree", got["reasons"]
    assert got["detected"] == "MIT OR Apache-2.0"
    assert {f["path"]: f["ids"] for f in got["files"]} == {
        "LICENSE-APACHE": ["Apache-2.0"],
        "LICENSE-MIT": ["MIT"],
    }


def test_missing_modified_or_prose_licence_is_no_texts(tmp_path: Path) -> None:
    cases = {
        "none": {"README.md": "MIT licensed.\n"},
        "modified": {"LICENSE": license_text("MIT-modified")},  # refused, not guessed
        "prose": {"COPYING": "This project is dual-licensed under the Unlicense and MIT.\n"},
        "empty": {"LICENSE": ""},
    }
    for name, files in cases.items():
        got = detect_checkout(_folder(tmp_path / name, files), "MIT")
        assert got["status"] == "no-texts" and not got["ok"], name
    modified = detect_checkout(tmp_path / "modified", "MIT")["files"][0]
    assert modified["ids"] == [] and modified["error"] is None


def test_hostile_licence_files_are_findings_never_crashes(tmp_path: Path) -> None:
    root = _folder(
        tmp_path / "r",
        {
            "LICENSE-MIT": MIT,
            "Cargo.toml": _cargo("h", "MIT", 'license-file = "../outside/LICENSE"\n'),
        },
    )
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "LICENSE").write_text(GPL)
    os.symlink(tmp_path / "outside" / "LICENSE", root / "LICENSE-GPL")  # a link out
    os.symlink("LICENSE-MIT", root / "LICENSE.md")  # a link inside: read
    os.mkfifo(root / "COPYING")  # would block a naive reader
    (root / "LICENSE-BIG").write_bytes(b"x" * ((1 << 20) + 1))
    (root / "LICENSE-BIN").write_bytes(b"MIT\0\x01")
    got = detect_checkout(root, "MIT")
    errors = {f["path"]: f["error"] for f in got["files"]}
    assert errors == {
        "../outside/LICENSE": "refused",
        "COPYING": "refused",
        "LICENSE-BIG": "too-large",
        "LICENSE-BIN": "binary",
        "LICENSE-GPL": "refused",
        "LICENSE-MIT": None,
        "LICENSE.md": None,
    }
    assert got["ok"], got["reasons"]  # the GPL text outside the repository is never read


def test_broken_manifests_are_problems(tmp_path: Path) -> None:
    files = {
        "LICENSE": MIT,
        "Cargo.toml": _cargo("ok", "MIT"),
        "tests/bad/Cargo.toml": "[package\nname = ",
        "tests/deep/Cargo.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "tests/bytes/Cargo.toml": b"\xff\xfe[package]",
    }
    got = detect_checkout(_folder(tmp_path / "r", files), "MIT")
    assert got["ok"] and len(got["problems"]) == 3, got["problems"]


_BYTES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.sampled_from([MIT[:400], "[package]\nlicense = 7\n", '[package]\nlicense = "MIT OR"\n']).map(
        str.encode
    ),
)


@settings(max_examples=40, deadline=None)
@given(licence=_BYTES, manifest=_BYTES, member=_BYTES)
def test_any_file_contents_give_a_summary_never_an_exception(
    tmp_path_factory: pytest.TempPathFactory, licence: bytes, manifest: bytes, member: bytes
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    write_files(root, {"LICENSE": licence, "Cargo.toml": manifest, "m/Cargo.toml": member,
                       "m/COPYING": licence})  # fmt: skip
    got = detect_checkout(root, "MIT")
    assert isinstance(got["ok"], bool) and got["status"] in {
        "agree", "incomplete", "disagree", "no-texts", "invalid"
    }  # fmt: skip
    assert got["ok"] == (not got["reasons"])


# --------------------------------------------------------------------------- workspaces


def _workspace(root: Path) -> Path:
    return _folder(
        root,
        {
            "LICENSE": MIT,
            "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n[workspace.package]\nlicense = "MIT"\n',
            "crates/core/Cargo.toml": _cargo("core", extra="license.workspace = true\n"),
            "crates/core/src/lib.rs": "pub fn f() {}\n",
            "crates/extra/Cargo.toml": _cargo("extra", "Apache-2.0"),
            "crates/extra/LICENSE-APACHE": APACHE,
            "crates/extra/src/lib.rs": "pub fn g() {}\n",
            "crates/tool/Cargo.toml": _cargo("tool"),  # no licence: inherits the repo's
            "crates/tool/src/main.rs": "fn main() {}\n",
        },
    )


def test_members_with_other_licences_are_recorded_per_record(tmp_path: Path) -> None:
    got = detect_checkout(_workspace(tmp_path / "ws"), "MIT")
    assert got["ok"], got["reasons"]
    assert got["detected"] == "MIT" and got["detected_from"] == "Cargo.toml"
    members = {m["name"]: m for m in got["members"]}
    assert members["core"]["license_from"] == "workspace"
    assert members["tool"]["license_from"] == "repository"
    assert members["extra"]["texts_from"] == "own" and members["extra"]["texts"] == ["Apache-2.0"]
    assert record_license(got, "crates/extra/src/lib.rs") == "Apache-2.0"
    assert record_license(got, "crates/core/src/lib.rs") == "MIT"
    assert record_license(got, "crates/tool/src/main.rs") == "MIT"
    assert record_license(got, "build.rs") == "MIT"


def test_a_member_declaring_gpl_without_its_text_fails(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    (root / "crates" / "extra" / "LICENSE-APACHE").unlink()
    (root / "crates" / "extra" / "Cargo.toml").write_text(_cargo("extra", "GPL-3.0-only"))
    got = detect_checkout(root, "MIT")
    assert not got["ok"]
    assert any("package extra" in r and "'GPL-3.0-only'" in r for r in got["reasons"])
    assert record_license(got, "crates/extra/src/lib.rs") == "GPL-3.0-only"


# --------------------------------------------------------------------------- blobs = checkout


def test_the_commit_blobs_give_the_checkout_summary(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    os.symlink("../../LICENSE", root / "crates" / "core" / "LICENSE")  # clap's layout
    os.symlink("/etc/passwd", root / "crates" / "core" / "COPYING")  # out of the repository
    os.symlink("crates", root / "LICENSES")  # a folder, named like a licence
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "ws")
    sha = git(root, "rev-parse", "HEAD")
    on_disk = detect_checkout(root, "MIT")
    from_git = detect_commit(root, sha, "MIT")
    assert from_git == on_disk
    errors = {f["path"]: f["error"] for f in on_disk["files"]}
    assert errors["crates/core/COPYING"] == "refused" and errors["crates/core/LICENSE"] is None


def test_a_commit_not_in_the_clone_is_an_error(tmp_path: Path) -> None:
    from corpus.licenses.tree import TreeError

    sha = make_repo(tmp_path / "r", {"LICENSE": MIT})
    with pytest.raises(TreeError):
        detect_commit(tmp_path / "r", "1" * 40, "MIT")
    with pytest.raises(TreeError):
        detect_commit(tmp_path / "r", "--output=/tmp/x", "MIT")
    assert detect_commit(tmp_path / "r", sha, "MIT")["ok"]


# --------------------------------------------------------------------------- the seven sources

#: licenseclassifier's ids for the root licence files of the seven sources at their pins
#: (copies in tests/data/licenses/seven): a change of detector shows up here first.
GOLDEN = {
    "BurntSushi/ripgrep": {"COPYING": [], "LICENSE-MIT": ["MIT"], "UNLICENSE": ["Unlicense"]},
    "clap-rs/clap": {"LICENSE-APACHE": ["Apache-2.0"], "LICENSE-MIT": ["MIT"]},
    "sharkdp/bat": {"LICENSE-APACHE": ["Apache-2.0"], "LICENSE-MIT": ["MIT"]},
    "sharkdp/fd": {"LICENSE-APACHE": ["Apache-2.0"], "LICENSE-MIT": ["MIT"]},
    "tokio-rs/tokio": {"LICENSE": ["MIT"]},
    "serde-rs/serde": {"LICENSE-APACHE": ["Apache-2.0"], "LICENSE-MIT": ["MIT"]},  # no appendix
    "dtolnay/syn": {"LICENSE-APACHE": ["Apache-2.0"], "LICENSE-MIT": ["MIT"]},
}


def test_the_seven_sources_licence_files_agree_with_their_pins() -> None:
    for src in load_sources():
        got = detect_checkout(SEVEN / src.repo.replace("/", "+"), src.license)
        ids = {f["path"]: f["ids"] for f in got["files"]}
        assert ids == GOLDEN[src.repo], src.repo
        assert got["ok"] and got["status"] == "agree", (src.repo, got["reasons"])
