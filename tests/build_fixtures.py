"""Fixture repos, sources.toml and git config for the build and executor tests.

Repos are real git repositories made by ``tests.gitrepos``; builds fetch them through a
``url.<base>.insteadOf`` rule in a temporary global git config, exactly as a mirror is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.sources import Source, write_sources
from tests.gitrepos import git, make_rust_repo

FAKE_BASE = "https://github.example.invalid/"

BETA_EXTRA = {
    "src/config.rs": """/// Parses the configuration file at the given path and returns the
/// settings it declares, or an error describing the first invalid line.
pub fn parse(path: &str) -> Result<u32, String> {
    Ok(path.len() as u32)
}

/// Parses the configuration file at the given path and returns the
/// settings it declares, or an error describing the earliest invalid line.
pub fn parse_again(path: &str) -> Result<u32, String> {
    Ok(path.len() as u32 + 1)
}

/// Connects with the key AKIAIOSFODNN7EXAMPLE; ask ops.lead@corp-mail.io for another.
pub fn connect() -> bool {
    true
}

/// Adds one to `x`.
///
/// # Examples
///
/// ```
/// assert_eq!(demo::add_one(1), 2);
/// ```
pub fn add_one(x: u32) -> u32 {
    x + 1
}
""",
    "tests/it.rs": "/// An integration test helper.\npub fn helper() -> u32 { 1 }\n",
}


def many_files(n: int) -> dict[str, str | bytes]:
    """``n`` modules with a few documented functions each (a repo that takes a moment)."""
    files: dict[str, str | bytes] = {}
    for i in range(n):
        body = "".join(
            f"/// Computes value {j} of module {i} from `x` (see the design notes, part {j}).\n"
            f"pub fn f{i}_{j}(x: u64) -> u64 {{\n    x.wrapping_mul({i * 31 + j})\n}}\n\n"
            for j in range(6)
        )
        files[f"src/m{i:03d}.rs"] = body
    return files


@dataclass
class Fixture:
    """Where the fixture lives: the sources file, the git config, the repos' origin dir."""

    root: Path
    sources_file: Path
    gitconfig: Path
    sources: list[Source]

    def env(self) -> dict[str, str]:
        """Environment for a build subprocess (git config, no user config)."""
        return {**os.environ, "GIT_CONFIG_GLOBAL": str(self.gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}


def make_fixture(root: Path, *, big_files: int = 0) -> Fixture:
    """Two small repos (alpha, beta) and, with ``big_files``, a third (gamma) of that many
    modules; a sources.toml naming them at fake GitHub URLs and a git config mapping those to
    the local repos."""
    origin = root / "origin"
    specs: list[tuple[str, dict[str, Any]]] = [("alpha", {}), ("beta", BETA_EXTRA)]
    if big_files:
        specs.append(("gamma", many_files(big_files)))
    sources = []
    for name, extra in specs:
        commit = make_rust_repo(origin / "acme" / f"{name}.git", name=name, extra=extra)
        sources.append(
            Source(f"acme/{name}", f"{FAKE_BASE}acme/{name}.git", commit, "MIT", "master")
        )
    sources_file = root / "sources.toml"
    write_sources(sources_file, sources)
    gitconfig = root / "gitconfig"
    gitconfig.write_text(
        f'[url "file://{origin}/"]\n\tinsteadOf = {FAKE_BASE}\n'
        "[user]\n\tname = Test\n\temail = test@example.invalid\n"
    )
    git(root, "--version")
    return Fixture(root, sources_file, gitconfig, sources)


# ---------------------------------------------------------------- unit functions for executor tests


def square_unit(payload: tuple[str, int]) -> int:
    """Write payload[1]**2 to the file payload[0] and return it (a tiny real unit of work)."""
    path, n = payload
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(str(n * n))
    with open(Path(path).parent / "runs.log", "a") as log:  # which units actually ran
        log.write(f"{n}\n")
    return n * n


def fail_once_unit(payload: tuple[str, str, int]) -> int:
    """Fail the first time for ``n`` listed in the flag file's name, then behave like square."""
    flag, path, n = payload
    if not Path(flag).exists():
        Path(flag).write_text("failed once")
        raise RuntimeError(f"unit {n} interrupted")
    return square_unit((path, n))


def die_once_then_extract(payload: tuple[str, Any]) -> Any:
    """Kill this worker process the first time (SIGKILL, no cleanup), then extract normally."""
    import signal

    from pipelines.build import clone_and_extract

    flag_dir, job = payload
    flag = Path(flag_dir) / f"{job.source.name}.died"
    if not flag.exists():
        flag.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return clone_and_extract(job)
