"""Real git repositories for tests: made with the git CLI, no network, deterministic dates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return stdout (raises on failure)."""
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(
        ["git", "-c", "init.defaultBranch=master", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write ``files`` (relative path -> text or bytes) under ``root``."""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def make_repo(root: Path, files: dict[str, str | bytes], message: str = "initial") -> str:
    """Create a git repository at ``root`` with ``files`` committed on master; return the SHA."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def commit_files(root: Path, files: dict[str, str | bytes], message: str = "change") -> str:
    """Add or overwrite ``files`` in the repo at ``root``, commit, and return the new SHA."""
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


#: The full MIT text: the build detects every source's licence from its files (licenseclassifier
#: names only complete, unmodified texts), so fixture repos ship a real one.
MIT_LICENSE = """MIT License

Copyright (c) 2026 Test Author

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

LICENSE_TEXTS = Path(__file__).parent / "data" / "licenses"


def license_text(name: str) -> str:
    """A real licence text shipped with the tests: ``Apache-2.0``, ``GPL-3.0`` (the FSF's
    full text), ``Unlicense``, ``MIT-modified`` (MIT plus a no-commercial-use clause), ``MIT``."""
    if name == "MIT":
        return MIT_LICENSE
    return (LICENSE_TEXTS / f"{name}.txt").read_text(encoding="utf-8")


SAMPLE_LIB = """//! A tiny crate used by the tests.

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

// A plain comment, not a doc.
fn private_helper() {}

/// A counter.
pub struct Counter(u32);

impl Counter {
    /// Creates a counter starting at zero.
    pub fn new() -> Self {
        Counter(0)
    }

    /// Returns the current value of the counter.
    #[inline]
    pub fn get(&self) -> u32 {
        self.0
    }
}

pub mod util {
    /// Doubles `x` and returns the result.
    pub fn double(x: u32) -> u32 {
        x * 2
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add_one(1), 2);
    }
}
"""


def make_rust_repo(
    root: Path, name: str = "demo", extra: dict[str, str | bytes] | None = None
) -> str:
    """A small Rust crate repo (Cargo.toml, LICENSE, src/lib.rs); returns the commit SHA."""
    files: dict[str, str | bytes] = {
        "Cargo.toml": f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n',
        "LICENSE": MIT_LICENSE,
        "src/lib.rs": SAMPLE_LIB,
    }
    files.update(extra or {})
    return make_repo(root, files)


@pytest.fixture
def private_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty global git config (the machine's own must not leak in)."""
    cfg = tmp_path / "gitconfig-global"
    cfg.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_ALLOW_PROTOCOL", raising=False)
    monkeypatch.delenv("CORPUS_CACHE_DIR", raising=False)
    return cfg
