"""The two places a repository's files are read from for licence detection, behind one face.

- :class:`CheckoutTree`: a work tree on disk (the build's checkout at the pin, or any plain
  folder). Files are listed without following symlinks and read with ``corpus.clone.safe_read``:
  only regular files inside the folder, never under ``.git``, a symlink only when it resolves
  inside the folder.
- :class:`GitTree`: the objects of one commit in a clone (``git ls-tree`` / ``git cat-file``),
  whatever its work tree holds. Symlinks are resolved inside the commit's tree by the same
  rule: a link that leaves the repository, loops or names a folder is refused.

Both list every file and symlink path (POSIX, relative, sorted) and read one path at a time;
a read that cannot be done raises :class:`TreeReadError` with a short ``code`` (``missing``,
``refused``, ``too-large``), the same for both, so a detection from a checkout and one from
the commit's blobs agree byte for byte.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import subprocess
from pathlib import Path
from typing import IO, Protocol

from corpus.errors import CorpusError
from corpus.gitrun import GitError, LongSession
from corpus.licenses.texts import MAX_LICENSE_BYTES

#: Symlinks followed in a row before a path is refused (a loop, or a hostile chain).
MAX_LINK_HOPS = 16


class TreeReadError(Exception):
    """One path could not be read: ``code`` says why, ``size`` is known for ``too-large``."""

    def __init__(self, code: str, size: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.size = size


class TreeError(CorpusError):
    """The tree itself cannot be listed (no such commit in the clone, git failed)."""


class Tree(Protocol):
    """What licence detection reads: a listing and one file at a time."""

    def paths(self) -> list[str]:
        """Every file and symlink path in the tree (POSIX, relative, sorted)."""
        ...

    def read(self, path: str, limit: int = MAX_LICENSE_BYTES) -> bytes:
        """The bytes of ``path``; TreeReadError when missing, refused or over ``limit``."""
        ...


def prune(paths: list[str]) -> list[str]:
    """Drop paths under ``.git`` and under folders holding a ``CACHEDIR.TAG`` (Cargo's
    ``target/``), the rule ``corpus.clone.iter_rust_files`` applies to sources."""
    tagged = {posixpath.dirname(p) for p in paths if posixpath.basename(p) == "CACHEDIR.TAG"}
    tagged.discard("")
    kept = []
    for p in paths:
        parts = p.split("/")
        if ".git" in parts:
            continue
        dirs = ("/".join(parts[:i]) for i in range(1, len(parts)))
        if not any(d in tagged for d in dirs):
            kept.append(p)
    return kept


class CheckoutTree:
    """A folder on disk, read as untrusted input."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def paths(self) -> list[str]:
        """Files and symlinks (to anything) under the folder; symlinks are never followed."""
        found: list[str] = []
        top = os.path.realpath(self.root)
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            for name in [*filenames, *links]:
                found.append(Path(os.path.relpath(os.path.join(dirpath, name), top)).as_posix())
        return sorted(found)

    def read(self, path: str, limit: int = MAX_LICENSE_BYTES) -> bytes:
        """``safe_read`` of ``path`` after a size check; errors as TreeReadError codes."""
        from corpus.clone import UnsafePathError, safe_read

        full = os.path.join(self.root, *path.split("/"))
        try:
            st = os.stat(full)  # follows a link: the size of what would be read
        except (OSError, ValueError):
            raise TreeReadError("refused" if os.path.islink(full) else "missing") from None
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            raise TreeReadError("too-large", st.st_size)
        try:
            data = safe_read(self.root, path)
        except UnsafePathError:
            raise TreeReadError("refused") from None
        if len(data) > limit:  # grew in between
            raise TreeReadError("too-large", len(data))
        return data


class GitTree:
    """The tree of ``commit`` in the git repository at ``repo`` (work tree or bare)."""

    def __init__(self, repo: Path, commit: str) -> None:
        if not re.fullmatch(r"[0-9a-f]{40}", commit or ""):
            raise TreeError(f"{repo}: {commit!r} is not a full commit SHA")
        self.repo = Path(repo)
        self.commit = commit
        self._entries: dict[str, tuple[str, str, int]] | None = None
        self._dirs: set[str] = set()
        self._proc: subprocess.Popen[bytes] | None = None
        # Every git call through the one hardened runner: the clone may be anyone's.
        self._session = LongSession([self.repo])
        self._g = self._session.git(self.repo)

    def __enter__(self) -> GitTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the ``git cat-file`` process, if one was started."""
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=30)
            self._proc = None
        self._session.close()

    def entries(self) -> dict[str, tuple[str, str, int]]:
        """path -> (mode, blob id, size) of every blob at the commit (files and symlinks)."""
        if self._entries is None:
            try:
                out = self._g.run_bytes("ls-tree", "-r", "-l", "-z", "--full-tree", self.commit)
            except GitError as exc:
                why = exc.stderr.strip().splitlines()
                raise TreeError(
                    f"{self.repo}: cannot list commit {self.commit}: {why[-1] if why else '?'}"
                ) from None
            self._entries = _parse_ls_tree(out)
            self._dirs = {posixpath.dirname(p) for p in self._entries}
            self._dirs |= {d for p in list(self._dirs) for d in _parents(p)}
        return self._entries

    def paths(self) -> list[str]:
        """Every blob path at the commit (symlinks included, submodules left out)."""
        return sorted(self.entries())

    def read(self, path: str, limit: int = MAX_LICENSE_BYTES) -> bytes:
        """The blob at ``path``, symlinks resolved inside the commit's tree."""
        _mode, oid, size = self.entries()[self._resolve(path)]
        if size > limit:
            raise TreeReadError("too-large", size)
        return self._cat(oid, size)

    def _resolve(self, path: str, hops: int = 0) -> str:
        """The path of the regular blob ``path`` names, following symlinks at any level."""
        if hops > MAX_LINK_HOPS:
            raise TreeReadError("refused")
        parts = path.split("/")
        entries = self.entries()
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            entry = entries.get(prefix)
            if entry is None:
                continue
            if entry[0] != "120000":
                if i == len(parts):
                    return prefix
                raise TreeReadError("missing")  # a file used as a folder
            target = self._cat(entry[1], entry[2]).decode("utf-8", "replace")
            rest = "/".join(parts[i:])
            joined = (
                posixpath.join(posixpath.dirname(prefix), target, rest)
                if rest
                else (posixpath.join(posixpath.dirname(prefix), target))
            )
            norm = posixpath.normpath(joined)
            if target.startswith("/") or norm == ".." or norm.startswith("../") or norm == ".":
                raise TreeReadError("refused")
            if ".git" in norm.split("/"):
                raise TreeReadError("refused")
            return self._resolve(norm, hops + 1)
        raise TreeReadError("refused" if path in self._dirs else "missing")

    def _cat(self, oid: str, size: int) -> bytes:
        proc = self._batch()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(oid.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise TreeReadError("missing")
        data = _read_exact(proc.stdout, int(header[2]))
        _read_exact(proc.stdout, 1)  # the newline after the contents
        return data

    def _batch(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = self._g.popen("cat-file", "--batch")
        return self._proc


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise TreeError("git cat-file stopped early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _parents(path: str) -> list[str]:
    parts = path.split("/") if path else []
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _parse_ls_tree(out: bytes) -> dict[str, tuple[str, str, int]]:
    """``<mode> <type> <oid> <size>\\t<path>`` records (NUL-separated) -> path -> entry."""
    entries: dict[str, tuple[str, str, int]] = {}
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, _, raw_path = rec.partition(b"\t")
        fields = meta.split()
        if len(fields) != 4 or fields[1] != b"blob":
            continue  # a submodule (commit) entry: never read
        path = raw_path.decode("utf-8", "surrogateescape")
        entries[path] = (fields[0].decode(), fields[2].decode(), int(fields[3]))
    return entries
