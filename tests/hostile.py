"""A repository made to attack the pipeline, for the hostile-input tests.

Its tree tries to leak (``include_str!`` into ``.git`` and out of the root, symlinks out of
the tree), to block or slow a build (odd file names, a newline among them; 3,000 nested
modules), and to reach a terminal (escape sequences and Rich markup in docs). Its own
``.git/config`` — what `corpus extract` meets on an untrusted checkout, and what a tampered
cache holds — sets every command git can be told to run: fsmonitor, hooks, filters,
textconv, pager, editor, credential helper, ssh command. Each such command touches a file in
``markers/``: a test passes only if that folder stays empty.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.gitrepos import MIT_LICENSE, git, make_repo

#: Text that must appear in no output: the outside file's content and what `.git` holds.
OUTSIDE_SECRET = "OUTSIDE-SECRET-4f1c"
GIT_LEAK_SIGNS = ("repositoryformatversion", "[core]", "fsmonitor", "refs/heads", "clone: from")

NEST_DEPTH = 3000
ESCAPES = "Clears \x1b[2J the screen, sets the title \x1b]0;pwned\x07 and links \x1b]8;;http://evil.invalid\x1b\\here\x1b]8;;\x1b\\."
MARKUP = "Rich markup [bold red]boom[/] and [link=http://evil.invalid]a link[/link] stay text."

HOSTILE_LIB = f"""//! A crate that attacks its reader.

#[doc = include_str!("../.git/config")]
pub fn leak_config() {{}}

#[doc = include_str!("../.git/logs/HEAD")]
pub fn leak_reflog() {{}}

#[doc = include_str!("../docs/out.md")]
pub fn leak_symlink() {{}}

#[doc = include_str!("../../outside.md")]
pub fn leak_outside() {{}}

#[doc = include_str!("../docs/fine.md")]
pub fn included_fine() {{}}

/// {ESCAPES}
pub fn escapes() {{}}

/// {MARKUP}
pub fn markup() {{}}

/// Returns the sum of `a` and `b`, wrapping on overflow.
pub fn add(a: u32, b: u32) -> u32 {{
    a.wrapping_add(b)
}}
"""

ODD_NAMES = ("src/new\nline.rs", "src/esc\x1b[31m.rs", "src/sp ace [x] `q`.rs")


def _deep_file(depth: int) -> str:
    return (
        "mod m {\n" * depth
        + "/// A function nested three thousand modules deep.\npub fn deep() {}\n"
        + "}\n" * depth
    )


def hostile_config(markers: Path) -> str:
    """A ``.git/config`` body whose every command touches a marker file."""
    t = lambda name: f"touch {markers / name}"  # noqa: E731
    return (
        "[core]\n"
        f'\tfsmonitor = "{t("fsmonitor")}"\n'
        f"\thooksPath = {markers.parent / 'evil-hooks'}\n"
        f"\tpager = {t('pager')}\n"
        f"\teditor = {t('editor')}\n"
        f"\tsshCommand = {t('ssh')}\n"
        f"\tgitProxy = {t('proxy')}\n"
        '[filter "evil"]\n'
        f'\tsmudge = "{t("smudge")}; cat"\n'
        f'\tclean = "{t("clean")}; cat"\n'
        f"\tprocess = {t('process')}\n"
        '[diff "evil"]\n'
        f"\ttextconv = {t('textconv')}\n"
        f'[credential]\n\thelper = "!{t("credential")}"\n'
        f"[uploadpack]\n\tpackObjectsHook = {t('packobjects')}\n"
        f'[alias]\n\tstatus = "!{t("alias")}"\n'
    )


def write_hooks(hooks: Path, markers: Path) -> None:
    """Every hook git runs on clone, checkout, fetch or commit touches a marker."""
    hooks.mkdir(parents=True, exist_ok=True)
    for name in ("post-checkout", "post-merge", "pre-commit", "post-commit", "reference-transaction",
                 "pre-auto-gc", "post-rewrite", "fsmonitor-watchman", "pre-push"):  # fmt: skip
        f = hooks / name
        f.write_text(f"#!/bin/sh\ntouch {markers / ('hook-' + name)}\n")
        f.chmod(0o755)


@dataclass
class Hostile:
    """Where the hostile repository and its markers live."""

    repo: Path
    commit: str
    markers: Path

    def markers_left(self) -> list[str]:
        """Names of the marker files some configured command created (must be none)."""
        return sorted(p.name for p in self.markers.iterdir())


def make_hostile_repo(repo: Path, markers: Path) -> Hostile:
    """The hostile repository at ``repo``, committed, then armed: its config and hooks are
    written after the commits, so only readers can trigger them. ``../outside.md`` (beside
    the repository) holds :data:`OUTSIDE_SECRET`; commands touch files in ``markers``."""
    markers.mkdir(parents=True, exist_ok=True)
    root = repo.parent
    root.mkdir(parents=True, exist_ok=True)
    (root / "outside.md").write_text(OUTSIDE_SECRET + "\n")
    files: dict[str, str | bytes] = {
        "Cargo.toml": '[package]\nname = "hostile"\nversion = "0.1.0"\nedition = "2021"\n',
        "LICENSE": MIT_LICENSE,
        "src/lib.rs": HOSTILE_LIB,
        "src/deep.rs": _deep_file(NEST_DEPTH),
        "docs/fine.md": "An included doc that is fine to read.\n",
        ".gitattributes": "*.rs filter=evil diff=evil\n*.md filter=evil\n",
        ".gitmodules": '[submodule "x"]\n\tpath = vendor/x\n\turl = ext::sh -c touch% /tmp/x\n',
    }
    for i, name in enumerate(ODD_NAMES):
        files[name] = f"/// Odd name {i}.\npub fn odd_{i}() {{}}\n"
    repo.mkdir()
    (repo / "docs").mkdir()
    os.symlink(str(root / "outside.md"), repo / "docs" / "out.md")
    os.symlink("/etc", repo / "etc-link")
    commit = make_repo(repo, files)
    os.symlink(str(root / "outside.md"), repo / "src" / "linked.rs")
    git(repo, "add", "src/linked.rs")
    git(repo, "commit", "-q", "-m", "a link out of the tree")
    commit = git(repo, "rev-parse", "HEAD")
    arm(repo / ".git", markers)
    return Hostile(repo, commit, markers)


def arm(git_dir: Path, markers: Path) -> None:
    """Append the hostile settings to ``git_dir/config`` and install the hooks."""
    with open(git_dir / "config", "a", encoding="utf-8") as fh:
        fh.write(hostile_config(markers))
    write_hooks(markers.parent / "evil-hooks", markers)
    write_hooks(git_dir / "hooks", markers)
