"""Fixture repos for the rebuild tests: five small crates whose build PASSes falsification.

Not a test module (it holds no tests); it is named ``test_rebuild_*`` because the rebuild's
helper files live under that name. A PASS needs what the suite checks on distribution: at
least 5 repos, none over 40% of the balanced config, and splits within 2 points of 80/10/10.
Each repo has ten files of one documented function each, which the per-repository placement
puts 8 / 1 / 1 into train / validation / test; every doc is worded differently (no near
duplicates for the filter to drop).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from corpus.sources import Source, write_sources
from tests.gitrepos import MIT_LICENSE, commit_files, git, make_repo

FAKE_BASE = "https://github.example.invalid/"
REPOS = ("acme/anvil", "acme/bellows", "acme/chisel", "acme/drill", "acme/easel")

_ADJ = ["smallest", "largest", "oldest", "newest", "busiest", "quietest", "widest", "deepest",
        "brightest", "heaviest", "lightest", "coldest", "warmest", "longest", "shortest",
        "fastest", "slowest", "cleanest", "noisiest", "sharpest"]  # fmt: skip
_NOUN = ["bucket", "ledger", "socket", "window", "segment", "cluster", "channel", "record",
         "token", "buffer", "column", "branch", "cursor", "packet", "journal", "matrix",
         "signal", "session", "cache", "queue", "vertex", "tablet", "harbor", "orchard",
         "lantern"]  # fmt: skip
_VERB = ["sorting", "hashing", "merging", "scanning", "trimming", "folding", "parsing",
         "encoding", "shifting", "rotating"]  # fmt: skip


def doc_for(repo_i: int, file_i: int) -> str:
    """A distinct English sentence for one function (word 3-grams barely overlap)."""
    n = repo_i * 10 + file_i
    adj, noun = _ADJ[n % len(_ADJ)], _NOUN[(n * 7) % len(_NOUN)]
    other, verb = _NOUN[(n * 3 + 5) % len(_NOUN)], _VERB[n % len(_VERB)]
    return (
        f"Returns the {adj} {noun} found in the {other} after {verb} it, "
        f"or zero when the {other} holds nothing at all (case {n})."
    )


def fn_source(fname: str, doc: str, k: int) -> str:
    """One documented public function."""
    return f"/// {doc}\npub fn {fname}(x: u64) -> u64 {{\n    x.wrapping_add({k})\n}}\n"


def module_names(repo: str) -> list[str]:
    """Ten module names of ``repo`` (placed 8 train, 1 validation, 1 test)."""
    return [f"part{i:03d}" for i in range(10)]


def crate_files(repo_i: int, repo: str) -> dict[str, str | bytes]:
    """Cargo.toml, LICENSE, lib.rs and the ten modules of one crate."""
    crate = repo.split("/")[1]
    mods = module_names(repo)
    files: dict[str, str | bytes] = {
        "Cargo.toml": f'[package]\nname = "{crate}"\nversion = "0.1.0"\nedition = "2021"\n',
        "LICENSE": MIT_LICENSE,
        "src/lib.rs": "//! Test crate.\n\n" + "".join(f"pub mod {m};\n" for m in mods),
    }
    for file_i, m in enumerate(mods):
        files[f"src/{m}.rs"] = fn_source(
            f"{crate}_{m}", doc_for(repo_i, file_i), repo_i * 100 + file_i
        )
    return files


@dataclass
class Upstreams:
    """The fixture: origin repos, a sources.toml pinning them, a git config reaching them."""

    root: Path
    sources_file: Path
    gitconfig: Path
    sources: list[Source]

    def origin(self, repo: str) -> Path:
        """The working repo that plays ``repo``'s upstream."""
        return self.root / "origin" / f"{repo}.git"

    def commit(self, repo: str, files: dict[str, str | bytes], message: str = "change") -> str:
        """Commit ``files`` upstream in ``repo``; returns the new tip."""
        return commit_files(self.origin(repo), files, message)

    def env(self) -> dict[str, str]:
        """Environment for a subprocess: this git config only."""
        return {**os.environ, **self.git_env()}

    def git_env(self) -> dict[str, str]:
        """The git variables that make the fake GitHub URLs resolve to the local repos."""
        return {"GIT_CONFIG_GLOBAL": str(self.gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}


def make_upstreams(root: Path) -> Upstreams:
    """Five crates, pinned at their first commit, reachable at fake GitHub URLs."""
    sources = []
    for i, repo in enumerate(REPOS):
        path = root / "origin" / f"{repo}.git"
        sha = make_repo(path, crate_files(i, repo))
        sources.append(Source(repo, f"{FAKE_BASE}{repo}.git", sha, "MIT", "master"))
    sources_file = root / "sources.toml"
    write_sources(sources_file, sources)
    gitconfig = root / "gitconfig"
    gitconfig.write_text(
        f'[url "file://{root / "origin"}/"]\n\tinsteadOf = {FAKE_BASE}\n'
        "[user]\n\tname = Test\n\temail = test@example.invalid\n"
    )
    git(root, "--version")
    return Upstreams(root, sources_file, gitconfig, sources)
