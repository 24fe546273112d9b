"""Batched reads from the pinned source clones: one git process per repository and question,
never one per record, all through ``corpus.gitrun``'s hardened runner (a clone the user points
``--sources-dir`` at may carry any config; none of it runs).

Paths are never spelled into git's line-based batch input: each commit's tree is listed once
with ``ls-tree -r -z`` (NUL-separated, so a path may hold any byte, a newline included) and
blobs are read by object id. A symlink or submodule entry is not a file (absent).

Layout: ``<sources_dir>/<owner>/<name>`` is a git repository (work tree or bare).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from corpus.gitrun import Git, GitError, config_overrides, environment

LICENSE_PREFIXES = ("license", "licence", "copying", "unlicense")
_OID = re.compile(r"^[0-9a-f]{40}$")


class SourceRepos:
    """Read-only access to the cloned sources under ``sources_dir``."""

    def __init__(self, sources_dir: Path) -> None:
        self.sources_dir = Path(sources_dir).absolute()
        # The empty hooks dir lives as long as this reader (removed when it is collected).
        self._hooks = tempfile.TemporaryDirectory(prefix="corpus-nohooks-")
        self._env = environment()
        self._trees: dict[tuple[str, str], dict[str, str]] = {}

    def path(self, repo: str) -> Path:
        """Where ``owner/name`` is cloned."""
        owner, _, name = repo.partition("/")
        return self.sources_dir / owner / name

    def has_repo(self, repo: str) -> bool:
        """True when a git repository exists at the clone path of ``repo``."""
        p = self.path(repo)
        return (p / ".git").exists() or (p / "HEAD").is_file()

    def _run(self, repo: str, *args: str, input: bytes | None = None) -> bytes:
        cwd = self.path(repo)
        git = Git(cwd, config_overrides(Path(self._hooks.name), [cwd]), self._env)
        return git.run_bytes(*args, input=input)

    def existing_commits(self, repo: str, commits: Iterable[str]) -> set[str]:
        """The subset of ``commits`` that are commit objects in the clone of ``repo``."""
        wanted = sorted({c for c in commits if _OID.match(c)})
        if not wanted or not self.has_repo(repo):
            return set()
        names = "".join(f"{c}^{{commit}}\n" for c in wanted).encode()
        out = self._run(repo, "cat-file", "--batch-check", input=names)
        found = set()
        for c, line in zip(wanted, out.decode("utf-8", "replace").splitlines(), strict=False):
            parts = line.split()
            # "<oid> commit <size>": the full oid must be the SHA we asked for (no abbreviations).
            if len(parts) == 3 and parts[1] == "commit" and parts[0] == c:
                found.add(c)
        return found

    def tree(self, repo: str, commit: str) -> dict[str, str]:
        """path -> blob id of every regular file at ``commit`` (empty if it is unknown)."""
        key = (repo, commit)
        if key not in self._trees:
            self._trees[key] = self._list_tree(repo, commit)
        return self._trees[key]

    def _list_tree(self, repo: str, commit: str) -> dict[str, str]:
        if not _OID.match(commit) or not self.has_repo(repo):
            return {}
        try:
            out = self._run(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
        except GitError:
            return {}
        files: dict[str, str] = {}
        for entry in out.split(b"\0"):
            meta, _, name = entry.partition(b"\t")
            parts = meta.split()
            # 100644 / 100755 blobs only: 120000 is a symlink, 160000 a submodule commit.
            if len(parts) == 3 and parts[1] == b"blob" and parts[0] in (b"100644", b"100755"):
                files[name.decode("utf-8", "surrogateescape")] = parts[2].decode()
        return files

    def read_blobs(
        self, repo: str, specs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], bytes]:
        """Blob bytes for each ``(commit, path)`` that names a regular file; others are absent."""
        wanted = sorted(set(specs))
        if not wanted or not self.has_repo(repo):
            return {}
        oids = {spec: self.tree(repo, spec[0]).get(spec[1]) for spec in wanted}
        unique = sorted({o for o in oids.values() if o})
        if not unique:
            return {}
        out = self._run(
            repo, "cat-file", "--batch", input="".join(f"{o}\n" for o in unique).encode()
        )
        contents: dict[str, bytes] = {}
        pos = 0
        for oid in unique:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            pos = nl + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                contents[oid] = out[pos : pos + size]
                pos += size + 1  # contents, then a newline
        return {spec: contents[o] for spec, o in oids.items() if o in contents}

    def root_names(self, repo: str, commit: str) -> list[str]:
        """File names at the root of ``commit`` (empty if the commit is unknown)."""
        return sorted({p.split("/", 1)[0] for p in self.tree(repo, commit) if "/" not in p})

    def tree_files(self, repo: str, commit: str) -> list[str]:
        """Paths of the regular files (not symlinks, not submodules) at ``commit``."""
        return sorted(self.tree(repo, commit))

    def license_files(self, repo: str, commit: str) -> list[str]:
        """Root files at ``commit`` that look like a licence (LICENSE*, COPYING*, UNLICENSE)."""
        return [n for n in self.root_names(repo, commit) if n.lower().startswith(LICENSE_PREFIXES)]
