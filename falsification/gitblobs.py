"""Batched reads from the pinned source clones: one ``git cat-file`` process per repo and
question, never one per record.

Layout: ``<sources_dir>/<owner>/<name>`` is a git repository (work tree or bare).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

LICENSE_PREFIXES = ("license", "licence", "copying", "unlicense")


class SourceRepos:
    """Read-only access to the cloned sources under ``sources_dir``."""

    def __init__(self, sources_dir: Path) -> None:
        self.sources_dir = Path(sources_dir)

    def path(self, repo: str) -> Path:
        """Where ``owner/name`` is cloned."""
        owner, _, name = repo.partition("/")
        return self.sources_dir / owner / name

    def has_repo(self, repo: str) -> bool:
        """True when a git repository exists at the clone path of ``repo``."""
        p = self.path(repo)
        return (p / ".git").exists() or (p / "HEAD").is_file()

    def _batch(self, repo: str, mode: str, names: list[str]) -> bytes:
        if any("\n" in n for n in names):
            raise ValueError("object names must not contain newlines")
        proc = subprocess.run(
            ["git", "-C", str(self.path(repo)), "cat-file", mode],
            input="".join(n + "\n" for n in names).encode("utf-8"),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"git cat-file in {self.path(repo)} failed: "
                f"{proc.stderr.decode('utf-8', 'replace').strip()}"
            )
        return proc.stdout

    def existing_commits(self, repo: str, commits: Iterable[str]) -> set[str]:
        """The subset of ``commits`` that are commit objects in the clone of ``repo``."""
        wanted = sorted(set(commits))
        if not wanted or not self.has_repo(repo):
            return set()
        out = self._batch(repo, "--batch-check", [f"{c}^{{commit}}" for c in wanted])
        found = set()
        for c, line in zip(wanted, out.decode("utf-8", "replace").splitlines(), strict=False):
            parts = line.split()
            # "<oid> commit <size>": the full oid must be the SHA we asked for (no abbreviations).
            if len(parts) == 3 and parts[1] == "commit" and parts[0] == c:
                found.add(c)
        return found

    def read_blobs(
        self, repo: str, specs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], bytes]:
        """Blob bytes for each ``(commit, path)`` that names a file; missing ones are absent."""
        wanted = sorted(set(specs))
        if not wanted or not self.has_repo(repo):
            return {}
        out = self._batch(repo, "--batch", [f"{c}:{p}" for c, p in wanted])
        blobs: dict[tuple[str, str], bytes] = {}
        pos = 0
        for spec in wanted:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            pos = nl + 1
            if len(header) == 3 and header[1] in (b"blob", b"tree", b"commit", b"tag"):
                size = int(header[2])
                if header[1] == b"blob":
                    blobs[spec] = out[pos : pos + size]
                pos += size + 1  # contents, then a newline
            # else "<name> missing" / "ambiguous": no contents follow
        return blobs

    def root_names(self, repo: str, commit: str) -> list[str]:
        """File names at the root of ``commit`` (empty if the commit is unknown)."""
        proc = subprocess.run(
            ["git", "-C", str(self.path(repo)), "ls-tree", "--name-only", commit],
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            return []
        return proc.stdout.decode("utf-8", "replace").splitlines()

    def tree_files(self, repo: str, commit: str) -> list[str]:
        """Paths of the regular files (not symlinks, not submodules) at ``commit``."""
        proc = subprocess.run(
            ["git", "-C", str(self.path(repo)), "ls-tree", "-r", "-z", "--full-tree", commit],
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            return []
        out = []
        for entry in proc.stdout.decode("utf-8", "replace").split("\0"):
            meta, _, path = entry.partition("\t")
            if meta.split(" ")[0] in ("100644", "100755") and path:
                out.append(path)
        return out

    def license_files(self, repo: str, commit: str) -> list[str]:
        """Root files at ``commit`` that look like a licence (LICENSE*, COPYING*, UNLICENSE)."""
        return [n for n in self.root_names(repo, commit) if n.lower().startswith(LICENSE_PREFIXES)]
